// An answer larger than the limit is refused before it is read whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { EnergyId, MemoryStore } from 'wattbridge';

async function serve(handler) {
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }) };
}

const device = (url) => new EnergyId({ helloUrl: `${url}/hello`, provisioningKey: 'k', provisioningSecret: 's', store: new MemoryStore() });

test('a declared Content-Length over 16 MB is refused at once', async () => {
  const server = await serve((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(64 << 20) });
    res.write('{"claimCode":"');
  });
  await assert.rejects(device(server.url).hello(), (err) => err.code === 'bad_response' && /more than 16 MB/.test(err.message));
  await server.close();
});

test('an endless answer without a length is cut off after 16 MB', async () => {
  let sent = 0;
  const chunk = Buffer.alloc(1 << 16, 0x20);
  const server = await serve((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const more = () => {
      while (sent < (256 << 20)) {
        sent += chunk.length;
        if (!res.write(chunk)) return res.once('drain', more);
      }
      res.end();
    };
    res.on('error', () => {});
    more();
  });
  await assert.rejects(device(server.url).hello(), (err) => err.code === 'bad_response' && /more than 16 MB/.test(err.message));
  assert.ok(sent < 64 << 20, `the client stopped reading early (${sent >> 20} MB were sent)`);
  await server.close();
});
