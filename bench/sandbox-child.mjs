// The sandbox in a process of its own, so that a benchmark's memory figures
// are the client's alone: prints its URLs and the Conso API token of its
// consent as one JSON line (the client then need not load the sandbox's code,
// ~10 MB of RSS), serves until killed.
import { startSandbox, SANDBOX_CONSO_TOKEN } from 'wattbridge/sandbox';

const options = JSON.parse(process.argv[2] ?? '{}');
const sandbox = await startSandbox(options);
process.stdout.write(`${JSON.stringify({ url: sandbox.url, urls: sandbox.urls, consoToken: SANDBOX_CONSO_TOKEN })}\n`);
process.on('SIGTERM', async () => {
  await sandbox.close();
  process.exit(0);
});
