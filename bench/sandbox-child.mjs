// The sandbox in a process of its own, so that a benchmark's memory figures
// are the client's alone: prints its URLs as one JSON line, serves until killed.
import { startSandbox } from 'wattbridge/sandbox';

const options = JSON.parse(process.argv[2] ?? '{}');
const sandbox = await startSandbox(options);
process.stdout.write(`${JSON.stringify({ url: sandbox.url, urls: sandbox.urls })}\n`);
process.on('SIGTERM', async () => {
  await sandbox.close();
  process.exit(0);
});
