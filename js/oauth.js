// OAuth 2.0 for JS users: every flow of the Rust core, with prompts and
// results as plain objects. Providers (Linky, Weheat) build on the same core.

import { OAuthSession } from '../pkg/wattbridge.js';
import { WattbridgeError } from './errors.js';
import { defaults } from './defaults.js';
import { requireWasm } from './internal.js';

export class OAuthClient {
  #session;

  /**
   * @param {object} options
   * @param {string} options.provider name used in messages and the default store key (`tokens/<provider>`)
   * @param {string} options.clientId
   * @param {string} [options.clientSecret] confidential clients only
   * @param {string} options.tokenUrl
   * @param {string} [options.deviceAuthorizationUrl]
   * @param {string} [options.authorizationUrl]
   * @param {string} [options.logoutUrl]
   * @param {string[]} [options.scopes]
   * @param {number} [options.refreshMarginSecs] refresh this long before expiry (default 60)
   * @param {string} [options.storeKey]
   * @param {string[]} [options.refreshEchoFields] token fields sent back on refresh
   * @param {string} [options.loginHint] how to log in again, for auth_required messages
   * @param {string[]} [options.apiUrls] where `fetch` may send the access token besides the endpoints' origins
   * @param {string} [options.verificationCodeParam] the verification page's user-code parameter, for a server that sends no verification_uri_complete
   * @param {import('./index.js').Store} [options.store]
   */
  constructor({ store, ...config } = {}) {
    requireWasm();
    this.#session = new OAuthSession(config, store ?? defaults.store());
  }

  /**
   * Device login (RFC 8628): `onVerification({user_code, verification_uri,
   * verification_uri_complete, expires_in})` is called once; resolves when the
   * person approved.
   */
  async loginWithDeviceCode({ onVerification, timeoutSeconds } = {}) {
    if (typeof onVerification !== 'function') {
      throw new WattbridgeError('loginWithDeviceCode needs an onVerification callback to show the code', { code: 'invalid_input' });
    }
    return this.#session.deviceLogin((verification) => {
      onVerification(verification);
    }, timeoutSeconds);
  }

  /** Password login: the password is used for this one request and never stored. */
  async loginWithPassword({ username, password } = {}) {
    return this.#session.passwordLogin(String(username ?? ''), String(password ?? ''));
  }

  /** Start a code + PKCE login: send the person to `url`; resolves to `{url, state}`. */
  async authorizationUrl({ redirectUri } = {}) {
    return this.#session.authorizationUrl(String(redirectUri ?? ''));
  }

  /** Finish a code + PKCE login with the URL the person was redirected to. */
  async completeAuthorization(callbackUrl) {
    return this.#session.completeAuthorization(String(callbackUrl));
  }

  /**
   * Code + PKCE in one call wherever a browser can be driven: pass `open(url)`
   * resolving to the URL the person was redirected to (the CLI's loopback
   * receiver, a popup), or leave it out in an extension page to use
   * `chrome.identity.launchWebAuthFlow` with `chrome.identity.getRedirectURL()`.
   */
  async loginWithRedirect({ redirectUri, open } = {}) {
    const identity = globalThis.chrome?.identity;
    if (!open && !identity?.launchWebAuthFlow) {
      throw new WattbridgeError('loginWithRedirect needs an open(url) function outside an extension with the "identity" permission', { code: 'invalid_input' });
    }
    const target = redirectUri ?? identity.getRedirectURL();
    const { url } = await this.authorizationUrl({ redirectUri: target });
    const callbackUrl = open ? await open(url) : await identity.launchWebAuthFlow({ url, interactive: true });
    if (!callbackUrl) throw new WattbridgeError('the login window was closed before it finished', { code: 'auth_required' });
    return this.completeAuthorization(callbackUrl);
  }

  /** A valid access token, refreshed first when due (concurrent callers share one refresh). */
  async accessToken() {
    return this.#session.accessToken();
  }

  /** An API request with the bearer token, to a configured service only; a 401 gets one refresh and one retry. */
  async fetch(url, { method = 'GET', headers = {}, body } = {}) {
    return (await this.#session.fetch({ url: String(url), method, headers, body }));
  }

  /** `{loggedIn, expiresAtMs, scopes, hasRefreshToken, extra}`, never the tokens. */
  async status() {
    return this.#session.status();
  }

  /** End the session at the provider where it can, then forget the tokens. */
  async logout() {
    await this.#session.logout();
  }
}
