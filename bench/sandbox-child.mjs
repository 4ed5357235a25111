// The sandbox in a process of its own, so that a benchmark's memory figures
// are the client's alone: prints its URLs and the credentials of its accounts
// (the Conso API token, the Weheat user, the EnergyID provisioning pair) as
// one JSON line, so the client need not load the sandbox's code (~10 MB of
// RSS); serves until killed.
import { startSandbox, SANDBOX_CONSO_TOKEN, SANDBOX_WEHEAT_USER, SANDBOX_PROVISIONING_KEY, SANDBOX_PROVISIONING_SECRET } from 'wattbridge/sandbox';

const options = JSON.parse(process.argv[2] ?? '{}');
const sandbox = await startSandbox(options);
process.stdout.write(`${JSON.stringify({ url: sandbox.url, urls: sandbox.urls, consoToken: SANDBOX_CONSO_TOKEN, weheatUser: SANDBOX_WEHEAT_USER, provisioning: { key: SANDBOX_PROVISIONING_KEY, secret: SANDBOX_PROVISIONING_SECRET } })}\n`);
process.on('SIGTERM', async () => {
  await sandbox.close();
  process.exit(0);
});
