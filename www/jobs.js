// What the page and the extension's background worker share: the page's
// documents in the store, the service clients they describe, errors in plain
// words, and one sync run. No top-level await (a service worker may not have
// one), and the library comes in as `lib`: the page passes js/browser.js, the
// worker the same classes after initializing the wasm itself.

export const DAY_MS = 86_400_000;

export const DEFAULT_SETTINGS = {
  helloUrl: 'https://hooks.energyid.eu/hello',
  gatewayUrl: 'https://enedis.domoticz.russandol.pro',
  consoApiUrl: 'https://conso.boris.sh/api',
  weheatAuthUrl: 'https://auth.weheat.nl/auth/realms/Weheat',
  weheatApiUrl: 'https://api.weheat.nl',
  priceBase: 0.2016,
  syncMinutes: 60,
};

export const SYNC_ALARM = 'sync';

/** In the extension: (re)start the background worker's alarm at the settings' period. */
export async function scheduleSync(settings) {
  if (!globalThis.chrome?.alarms) return null;
  const minutes = Math.max(1, Number(settings.syncMinutes) || DEFAULT_SETTINGS.syncMinutes);
  await chrome.alarms.create(SYNC_ALARM, { delayInMinutes: minutes, periodInMinutes: minutes });
  return chrome.alarms.get(SYNC_ALARM);
}

export const SERVICE = { linky: 'Linky', weheat: 'Weheat', energyid: 'EnergyID' };
export const daysAgo = (n) => new Date(Date.now() - n * DAY_MS);

/**
 * @param {{Linky: any, Weheat: any, EnergyId: any, sync: Function, disposition: Function}} lib
 * @param {import('../js/index.js').Store} store
 */
export function makeJobs(lib, store) {
  // The page's own documents, next to the library's. `secrets` holds what the
  // services need again (never put back into the page).
  async function load(key, fallback) {
    const text = await store.get(`www/${key}`);
    return text ? { ...fallback, ...JSON.parse(text) } : { ...fallback };
  }
  const save = (key, value) => store.put(`www/${key}`, JSON.stringify(value));

  /** The clients that `settings` and `secrets` describe. */
  function clients({ settings, secrets }) {
    const meter = settings.meter || undefined; // picked in the card when the consent covers several
    return {
      tariff: () => ({ tariff: 'base', priceBase: Number(settings.priceBase) || undefined }),
      linky: () => secrets.consoToken
        ? new lib.Linky({ access: 'conso', consoApiUrl: settings.consoApiUrl, consoToken: secrets.consoToken, meter, store })
        : new lib.Linky({ access: 'gateway', gatewayUrl: settings.gatewayUrl, meter, store }),
      weheat: () => new lib.Weheat({ authUrl: settings.weheatAuthUrl, apiUrl: settings.weheatApiUrl, store }),
      energyid: () => secrets.provisioningKey
        ? new lib.EnergyId({ helloUrl: settings.helloUrl, provisioningKey: secrets.provisioningKey, provisioningSecret: secrets.provisioningSecret, deviceName: 'wattbridge (browser)', store })
        : null,
    };
  }

  /** What a person should do about an error, in plain words. */
  function actionFor(code, service, retryAfter) {
    switch (code) {
      case 'auth_required':
      case 'invalid_credentials':
        return `Sign in again in the ${SERVICE[service] ?? service} card.`;
      case 'consent_required':
        return 'Give your consent again: press "Sign in with Enedis" in the Linky card.';
      case 'not_claimed':
        return 'Claim this browser in EnergyID: see the EnergyID card.';
      case 'webhook_disabled':
        return 'The record does not accept data: turn its webhook on again in EnergyID.';
      case 'rate_limited':
        return `The service asks to slow down: sync again${retryAfter ? ` in ${retryAfter} s` : ' later'}.`;
      case 'network':
      case 'unavailable':
        return 'The service could not be reached: check the connection, then sync again.';
      case 'invalid_config':
      case 'invalid_input':
        return 'Check the service addresses and tariff at the bottom of the page.';
      default:
        return lib.disposition(code) === 'retry_later' ? 'Sync again later; nothing is lost.' : 'Check the settings, then sync again.';
    }
  }

  const problem = (service, err) => ({ service, code: err.code ?? 'unknown', message: err.message, action: actionFor(err.code, service, err.retryAfter) });

  /**
   * One run: fetch what the dashboard draws, then sync() into EnergyID when
   * it is claimed. Saves and resolves to `{atMs, problems}`; `onStep(text)`
   * hears each step.
   */
  async function syncAll({ onStep = () => {} } = {}) {
    const state = { settings: await load('settings', DEFAULT_SETTINGS), secrets: await load('secrets', {}) };
    const c = clients(state);
    const problems = [];
    const step = async (service, what, fn) => {
      onStep(what);
      try { return await fn(); } catch (err) { problems.push(problem(service, err)); return null; }
    };
    const linky = state.secrets.consoToken || (await c.linky().oauth().status()).loggedIn ? c.linky() : null;
    const weheat = (await c.weheat().oauth().status()).loggedIn ? c.weheat() : null;
    const energyid = c.energyid();
    if (linky) {
      await step('linky', 'Linky: fetching daily values…', async () => {
        await linky.fetchForStats({ tariff: c.tariff() });
        await linky.fetch('daily', { from: daysAgo(62) });
      });
      await step('linky', 'Linky: fetching the load curve…', () => linky.fetch('load-curve', { from: daysAgo(3) }));
    }
    if (weheat) {
      await step('weheat', 'Weheat: fetching energy per day…', () => weheat.fillEnergy({ interval: 'Day', since: daysAgo(30) }));
      const latest = await step('weheat', 'Weheat: reading the current state…', () => weheat.latest());
      if (latest) await save('weheat-latest', { latest });
    }
    const claimed = energyid && (await energyid.status()).claimed;
    if (energyid && !claimed) problems.push(problem('energyid', { code: 'not_claimed', message: 'This browser is not claimed in EnergyID yet, so nothing was sent.' }));
    if (claimed && (linky || weheat)) {
      const report = await step('energyid', 'Sending to EnergyID…', () => lib.sync({ linky, weheat, energyid, since: daysAgo(30), maxWaitSeconds: 120, store }));
      if (report) {
        for (const [service, source] of Object.entries(report.sources)) if (source.status === 'error') problems.push(problem(service, source.error));
        if (report.energyid?.status === 'error') problems.push(problem('energyid', report.energyid.error));
      }
    }
    // One line per service and cause: a fetch and sync() may meet the same one.
    const last = { atMs: Date.now(), problems: [...new Map(problems.map((p) => [`${p.service}:${p.code}`, p])).values()] };
    await save('last-sync', last);
    return last;
  }

  return { load, save, clients, actionFor, problem, syncAll };
}
