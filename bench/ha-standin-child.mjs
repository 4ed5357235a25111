// The Home Assistant stand-in (tests/js/ha-standin.mjs, strict, from the
// contract) in a process of its own, so the bench's memory figures are the
// client's alone: prints its URL as one JSON line, then on SIGTERM the rows
// it holds per statistic, and exits.
import { startHaStandIn } from '../tests/js/ha-standin.mjs';

const ha = await startHaStandIn({ version: process.argv[2] ?? '2025.11.0' });
process.stdout.write(`${JSON.stringify({ url: ha.url })}\n`);
process.on('SIGTERM', async () => {
  const rows = Object.fromEntries([...ha.db.entries()].map(([id, entry]) => [id, entry.rows.size]));
  process.stdout.write(`${JSON.stringify({ rows })}\n`);
  await ha.close();
  process.exit(0);
});
