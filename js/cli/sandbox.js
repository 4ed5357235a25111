import { startSandbox, SANDBOX_PROVISIONING_KEY } from '../sandbox/index.js';

/** `wattbridge sandbox`: serve until SIGINT/SIGTERM. */
export async function runSandbox({ port, json }) {
  const sandbox = await startSandbox({ port });
  if (json) {
    process.stdout.write(`${JSON.stringify({ url: sandbox.url, services: sandbox.urls })}\n`);
  } else {
    process.stdout.write(
      [
        `wattbridge sandbox listening on ${sandbox.url}`,
        `  energyid  hello URL ${sandbox.urls.energyid.helloUrl}`,
        `            provisioning key "${SANDBOX_PROVISIONING_KEY}" (the secret is in the README)`,
        `  weheat    Keycloak realm ${sandbox.urls.weheat.authUrl}, API ${sandbox.urls.weheat.apiUrl}`,
        `  linky     device-flow gateway ${sandbox.urls.linky.gatewayUrl}`,
        `  jeedom    jeedom.url ${sandbox.urls.jeedom.url} (its API key is in the README)`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  }
  await new Promise((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, resolve);
  });
  await sandbox.close();
}
