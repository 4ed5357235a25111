// Receive an OAuth redirect on 127.0.0.1 (RFC 8252 §7.3), the way `wrangler
// login` and `gh auth login --web` do: a one-shot listener on a random port.
import { createServer } from 'node:http';
import { WattbridgeError } from './errors.js';

/**
 * @param {{path?: string, timeoutSeconds?: number}} [options]
 * @returns {Promise<{redirectUri: string, callbackUrl: Promise<string>, close: () => Promise<void>}>}
 */
export async function startLoopbackReceiver({ path = '/callback', timeoutSeconds = 600 } = {}) {
  let settle;
  const callbackUrl = new Promise((resolve, reject) => { settle = { resolve, reject }; });
  let origin = 'http://127.0.0.1';
  const server = createServer((req, res) => {
    // Our own origin, not the request's Host header: a malformed one must not
    // crash the login (new URL would throw), and only the path and query count.
    let url;
    try {
      url = new URL(req.url, origin);
    } catch {
      return res.writeHead(400).end();
    }
    if (url.pathname !== path) return res.writeHead(404).end();
    const failed = url.searchParams.has('error');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
      `<!doctype html><title>wattbridge</title><p>${failed ? 'The login did not complete' : 'Logged in'}; you can close this tab and go back to the terminal.</p>`,
    );
    settle.resolve(url.href);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  const timer = setTimeout(
    () => settle.reject(new WattbridgeError(`no login came back within ${timeoutSeconds} s`, { code: 'auth_required' })),
    timeoutSeconds * 1000,
  );
  timer.unref();
  const close = () => {
    clearTimeout(timer);
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  callbackUrl.then(close, close);
  return { redirectUri: `http://127.0.0.1:${server.address().port}${path}`, callbackUrl, close };
}
