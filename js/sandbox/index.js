// The sandbox: local stand-ins for the real services, on one loopback port,
// each under its own prefix. `wattbridge sandbox` and `wattbridge demo` start it;
// the end-to-end tests do too.

import { createServer } from 'node:http';
import { CORS_HEADERS, sendJson } from './http.js';
import { createEnergyIdService, SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET } from './energyid.js';
import { createWeheatService, WEHEAT_CLIENT_ID, SANDBOX_WEHEAT_USER, SANDBOX_WEHEAT_PUMPS } from './weheat.js';
import { createLinkyService } from './linky.js';
import { createJeedomService, SANDBOX_JEEDOM_API_KEY } from './jeedom.js';

export { SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET, WEHEAT_CLIENT_ID, SANDBOX_WEHEAT_USER, SANDBOX_WEHEAT_PUMPS, SANDBOX_JEEDOM_API_KEY };
export {
  LINKY_CLIENT_ID,
  LINKY_TEST_CLIENT_ID,
  SANDBOX_METERS,
  SANDBOX_LINKY_METERS,
  SANDBOX_CONSO_TOKEN,
  ENEDIS_APP_CLIENT_ID,
  ENEDIS_APP_CLIENT_SECRET,
} from './linky.js';

/**
 * @param {object} [options]
 * @param {number} [options.port] 0 (default) picks a free port
 * @param {string} [options.host] default 127.0.0.1
 * @param {object} [options.energyid] options of the EnergyID service
 * @param {object} [options.weheat] options of the Weheat service
 * @param {object} [options.linky] options of the Enedis services (gateway, own app, Conso API)
 * @param {object} [options.jeedom] options of the Jeedom JSON-RPC stand-in
 */
export async function startSandbox({ port = 0, host = '127.0.0.1', energyid = {}, weheat = {}, linky = {}, jeedom = {} } = {}) {
  const services = {
    energyid: createEnergyIdService(energyid),
    weheat: createWeheatService(weheat),
    linky: createLinkyService(linky),
    jeedom: createJeedomService(jeedom),
  };
  let origin;

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, origin);
      if (req.method === 'OPTIONS') {
        res.writeHead(204, CORS_HEADERS);
        return res.end();
      }
      const [, name, ...rest] = url.pathname.split('/');
      const service = services[name];
      if (!service) return sendJson(res, 404, { error: `no sandbox service '${name}'`, services: Object.keys(services) });
      await service.handle(req, res, `/${rest.join('/')}`, url, `${origin}/${name}`);
    } catch (err) {
      if (!res.headersSent) sendJson(res, err.status ?? 500, { error: err.message });
      else res.destroy();
    }
  });
  // A test that drops connections must not leave keep-alive sockets behind.
  server.keepAliveTimeout = 1000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  origin = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  return {
    url: origin,
    /** Base URLs a client is configured with, by service. */
    urls: {
      energyid: { helloUrl: `${origin}/energyid/hello` },
      // The names of DESIGN.md's settings: weheat.auth_url is the realm, linky.gateway_url the gateway.
      // authUrl/apiUrl are the shapes of the defaults (old Keycloak path, old API root: plain
      // heat-pump list); newAuthUrl/newApiUrl the newer ones (no /auth prefix; /third_party: paged list).
      weheat: {
        authUrl: `${origin}/weheat/auth/realms/Weheat`,
        apiUrl: `${origin}/weheat`,
        newAuthUrl: `${origin}/weheat/realms/Weheat`,
        newApiUrl: `${origin}/weheat/third_party`,
      },
      // One origin plays the gateway, the Enedis API host (and its consent page) and the Conso API.
      linky: { gatewayUrl: `${origin}/linky`, consoApiUrl: `${origin}/linky/conso/api`, enedisApiUrl: `${origin}/linky` },
      // jeedom.url: the box's base; the API is at `${url}/core/api/jeeApi.php`.
      jeedom: { url: `${origin}/jeedom` },
    },
    energyid: services.energyid,
    weheat: services.weheat,
    linky: services.linky,
    jeedom: services.jeedom,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
