// Small helpers shared by the sandbox services: JSON answers, CORS, body
// reading, and the fault queue that lets tests make a service misbehave.

export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
  'access-control-allow-headers':
    'content-type, authorization, x-twin-id, x-provisioning-key, x-provisioning-secret',
  'access-control-expose-headers': 'retry-after',
  'access-control-max-age': '600',
};

export function sendJson(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...CORS_HEADERS, 'content-type': 'application/json', ...headers });
  res.end(text);
}

export function sendHtml(res, status, html) {
  res.writeHead(status, { ...CORS_HEADERS, 'content-type': 'text/html; charset=utf-8' });
  res.end(html);
}

/** Read a request body, refusing more than `limit` bytes. */
export async function readBody(req, limit = 10 * 1024 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A queue of faults for the next requests of one service. A fault is
 * `{status, body?, retryAfter?}`, `{drop: true}` (close the connection without
 * an answer), `{html: true}` (a 200 HTML page) or `{truncate: true}` (a 200
 * whose JSON body stops half-way), optionally limited to a `path` suffix.
 */
export class FaultQueue {
  #queue = [];

  push(...faults) {
    this.#queue.push(...faults);
  }

  clear() {
    this.#queue.length = 0;
  }

  /** Apply the next fault that matches `path`; true when the request was answered by it. */
  apply(path, res) {
    const index = this.#queue.findIndex((fault) => !fault.path || path.endsWith(fault.path));
    if (index < 0) return false;
    const [fault] = this.#queue.splice(index, 1);
    if (fault.drop) {
      res.socket.destroy();
    } else if (fault.html) {
      sendHtml(res, 200, '<!doctype html><title>Maintenance</title><p>Back soon.</p>');
    } else if (fault.truncate) {
      res.writeHead(200, { ...CORS_HEADERS, 'content-type': 'application/json' });
      res.end('{"status":"ok","items":[{"id":1,"na');
    } else {
      const headers = fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) };
      sendJson(res, fault.status ?? 500, fault.body, headers);
    }
    return true;
  }
}

/**
 * The test switches the Linky and Weheat services share: `POST /_sandbox/end-sessions`
 * ("Session not active"), `GET /_sandbox/requests` and `POST /_sandbox/requests/reset`.
 * True when the request was one of them.
 */
export function answerControls(req, res, path, { auth, requests, resetRequests }) {
  const route = `${req.method} ${path}`;
  if (route === 'POST /_sandbox/end-sessions') {
    auth.endAllSessions();
  } else if (route === 'GET /_sandbox/requests') {
    sendJson(res, 200, requests());
    return true;
  } else if (route === 'POST /_sandbox/requests/reset') {
    resetRequests();
  } else {
    return false;
  }
  sendJson(res, 200, { ok: true });
  return true;
}
