// The provider accounts the CLI logs in to, built from the settings. The token
// documents live in the default store (WATTBRIDGE_HOME/state, mode 0600).
import { OAuthClient } from '../node.js';

const trim = (url) => url.replace(/\/+$/, '');

/** Build an account; a settings error names the setting and where its value came from. */
function build(settings, key, make) {
  try {
    return make();
  } catch (err) {
    if (err.code === 'invalid_config') err.message += ` (check ${key}, set by ${settings.source(key)})`;
    throw err;
  }
}

/** Weheat: Keycloak realm (password, code + PKCE), tokens under `tokens/weheat`. */
export function weheatAccount(settings) {
  const openid = `${trim(settings.get('weheat.auth_url'))}/protocol/openid-connect`;
  return build(settings, 'weheat.auth_url', () => new OAuthClient({
    provider: 'weheat',
    clientId: settings.get('weheat.client_id'),
    tokenUrl: `${openid}/token`,
    authorizationUrl: `${openid}/auth`,
    logoutUrl: `${openid}/logout`,
    scopes: ['openid', 'offline_access'],
    loginHint: 'run `wattbridge weheat login`',
  }));
}

/** Linky through the Enedis device-flow gateway: refresh 20 min ahead, meters echoed on refresh. */
export function linkyAccount(settings) {
  const gateway = trim(settings.get('linky.gateway_url'));
  return build(settings, 'linky.gateway_url', () => new OAuthClient({
    provider: 'linky',
    clientId: settings.get('linky.client_id'),
    tokenUrl: `${gateway}/device/token`,
    deviceAuthorizationUrl: `${gateway}/device/code`,
    refreshMarginSecs: 20 * 60,
    refreshEchoFields: ['usage_points_id'],
    loginHint: 'run `wattbridge linky login`',
  }));
}
