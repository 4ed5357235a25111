// A real, certified OpenID provider (`oidc-provider` from npm) on loopback,
// configured the way the providers we talk to behave: device flow, refresh
// token rotation, PKCE, revocation, and a password grant (Keycloak's legacy
// grant, added through oidc-provider's registerGrantType extension point).
import { createServer } from 'node:http';
import { after } from 'node:test';
import Provider, { errors } from 'oidc-provider';

export const PASSWORD_USER = { username: 'anna@example.org', password: 'correct horse battery staple' };
export const CLIENTS = { device: 'wattbridge-device', pkce: 'wattbridge-pkce', password: 'wattbridge-password' };
const SCOPE = 'openid offline_access';

export async function startOidcProvider({ accessTokenTtl = 600, cors = false } = {}) {
  let handler = (_req, res) => res.writeHead(503).end();
  const counts = { token: 0 };
  // Every token and code the provider hands out, for the tests that prove none leaks.
  const issued = new Set();
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/token') counts.token += 1;
    if (req.method === 'POST' && ['/token', '/device/auth'].includes(req.url)) {
      const end = res.end.bind(res);
      res.end = (chunk, ...rest) => {
        try {
          const body = JSON.parse(String(chunk));
          for (const key of ['access_token', 'refresh_token', 'id_token', 'device_code']) if (body[key]) issued.add(body[key]);
        } catch {
          // not JSON: nothing issued
        }
        return end(chunk, ...rest);
      };
    }
    handler(req, res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const provider = new Provider(issuer, {
    clients: [
      { client_id: CLIENTS.device, token_endpoint_auth_method: 'none', grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], response_types: [], redirect_uris: [] },
      // application_type native: any loopback port is accepted for the redirect (RFC 8252 §7.3).
      { client_id: CLIENTS.pkce, token_endpoint_auth_method: 'none', application_type: 'native', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], redirect_uris: ['http://127.0.0.1/callback'] },
      { client_id: CLIENTS.password, token_endpoint_auth_method: 'none', grant_types: ['password', 'refresh_token'], response_types: [], redirect_uris: [] },
    ],
    scopes: ['openid', 'offline_access'],
    // For pages that run the flows themselves (the browser tests).
    clientBasedCORS: () => cors,
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
    },
    ttl: { AccessToken: accessTokenTtl, DeviceCode: 300, RefreshToken: 14 * 24 * 3600, Grant: 14 * 24 * 3600, Session: 3600, Interaction: 600 },
    // Refresh tokens for every client allowed the grant (public clients get them rotated on each use).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Revoking an access token leaves the grant (and its refresh token) alive;
    // revoking a refresh token or logging out ends it.
    revokeGrantPolicy: (ctx) => !(ctx.oidc.route === 'revocation' && ctx.oidc.entities.AccessToken),
    async findAccount(_ctx, sub) {
      return { accountId: sub, claims: async () => ({ sub }) };
    },
    // The dev interactions ask for consent once; grant every scope asked for.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope(SCOPE);
      await grant.save();
      return grant;
    },
  });
  provider.proxy = false;
  registerPasswordGrant(provider);
  handler = provider.callback();

  const stop = () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); });
  after(stop);
  return {
    issuer,
    provider,
    /** OAuthClient settings for one of our clients at this provider. */
    settings: (clientId) => ({
      provider: 'peer',
      clientId,
      tokenUrl: `${issuer}/token`,
      deviceAuthorizationUrl: `${issuer}/device/auth`,
      authorizationUrl: `${issuer}/auth`,
      revocationUrl: `${issuer}/token/revocation`,
      scopes: ['openid', 'offline_access'],
      loginHint: 'log in to the peer again',
    }),
    /** Requests seen by the token endpoint. */
    counts,
    /** Every access/refresh/id token and device code issued so far. */
    issued,
    endpoints: {
      token: `${issuer}/token`,
      device: `${issuer}/device/auth`,
      authorization: `${issuer}/auth`,
      revocation: `${issuer}/token/revocation`,
      userinfo: `${issuer}/me`,
    },
    stop,
  };
}

function registerPasswordGrant(provider) {
  provider.registerGrantType('password', async (ctx) => {
    const { username, password } = ctx.oidc.params;
    if (username !== PASSWORD_USER.username || password !== PASSWORD_USER.password) {
      throw new errors.InvalidGrant('Invalid user credentials');
    }
    const { client } = ctx.oidc;
    const grant = new provider.Grant({ accountId: username, clientId: client.clientId });
    grant.addOIDCScope(SCOPE);
    const grantId = await grant.save();
    const common = { accountId: username, client, grantId, scope: SCOPE, gty: 'password' };
    const accessToken = new provider.AccessToken(common);
    const refreshToken = new provider.RefreshToken({ ...common, rotations: 0 });
    ctx.body = {
      access_token: await accessToken.save(),
      refresh_token: await refreshToken.save(),
      token_type: 'Bearer',
      expires_in: accessToken.expiration,
      scope: SCOPE,
    };
  }, new Set(['username', 'password', 'scope']));
}

/**
 * The person's side of a login in oidc-provider's development pages: confirm
 * the code, sign in (any name and password are accepted), consent, until
 * `done(page)` says the login went through.
 */
export async function approveInBrowser(page, url, done) {
  await page.goto(url);
  for (let step = 0; step < 8; step += 1) {
    if (await done(page)) return;
    const login = page.locator('input[name=login]');
    if (await login.count()) {
      await login.fill('anna');
      await page.fill('input[name=password]', 'any');
    }
    const button = page.locator('button[type=submit], button[autofocus]').first();
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
  }
  throw new Error(`the approval did not finish; last page: ${page.url()}`);
}

/** oidc-provider's device flow ends on a page titled "Sign-in Success". */
export const deviceApproved = async (page) => (await page.title()) === 'Sign-in Success';
