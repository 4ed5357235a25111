// What Node's own fetch costs in memory, without wattbridge: as many loopback
// requests as the 2-year backfill makes, with bodies of its size, in a process
// of their own. undici parses HTTP with llhttp, a wasm module whose 29 KB
// parser function V8's optimizing compiler takes about 32 MB to compile after
// a few dozen requests (measured with --trace-wasm-compilation-times), so any
// Node program that fetches that much peaks near this figure. `npm run bench`
// prints it beside the backfill's peak RSS. Prints JSON: {requests, maxRssMb}.
import { createServer } from 'node:http';
import { once } from 'node:events';

const REQUESTS = Number(process.argv[2] ?? 150);
const body = JSON.stringify({ padding: 'x'.repeat(60_000) });
const server = createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(body);
}).listen(0, '127.0.0.1');
await once(server, 'listening');
const url = `http://127.0.0.1:${server.address().port}/`;
for (let i = 0; i < REQUESTS; i += 1) await (await fetch(url)).json();
server.close();
process.stdout.write(`${JSON.stringify({ requests: REQUESTS, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
