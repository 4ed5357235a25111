// What the page and the extension's background worker share: the page's
// documents in the store, the service clients they describe, errors in plain
// words, and one sync run. No top-level await (a service worker may not have
// one), and the library comes in as `lib`: the package's wattbridge/init entry
// (js/browser-init.js), whose init() the page and the worker await before a sync.

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

/**
 * A library message without the advice it ends with for people at a terminal
 * ("not logged in to Linky: run `wattbridge linky login`" → "not logged in to
 * Linky."): a page shows its own action beside it (actionFor).
 */
export function withoutCliAdvice(message) {
  const at = message.indexOf('`wattbridge');
  if (at < 0) return message;
  const before = message.slice(0, at);
  const cut = Math.max(before.lastIndexOf(': '), before.lastIndexOf('; '));
  return cut > 0 ? `${message.slice(0, cut)}.` : message;
}

export const SERVICE = { linky: 'Linky', weheat: 'Weheat', energyid: 'EnergyID', homeassistant: 'Home Assistant', mqtt: 'MQTT' };
/** The optional targets: their cards, and their last check or delivery in the `targets` document. */
export const TARGETS = ['homeassistant', 'mqtt'];
export const daysAgo = (n) => new Date(Date.now() - n * DAY_MS);

// Home Assistant's discovery shows it as the devices' software version.
const VERSION = globalThis.chrome?.runtime?.getManifest?.().version ?? 'web page';

/**
 * The page's own documents in `store`, next to the library's: `load(key,
 * fallback)` and `save(key, value)`. `secrets` holds what the services need
 * again (never put back into the page). No wasm needed: the page paints its
 * last view with these before the library has loaded.
 */
export function documents(store) {
  async function load(key, fallback) {
    const text = await store.get(`www/${key}`);
    return text ? { ...fallback, ...JSON.parse(text) } : { ...fallback };
  }
  const save = (key, value) => store.put(`www/${key}`, JSON.stringify(value));
  return { load, save };
}

/**
 * @param {typeof import('../js/browser-init.js')} lib the package (its init() awaited before a sync)
 * @param {import('../js/index.js').Store} store
 * @param {{loadMqtt?: () => Promise<{kit: typeof import('../js/mqtt/index.js'), library: any}>}} [options]
 *   the MQTT publisher and the browser build of mqtt.js: a page loads them only
 *   when a broker is set, a service worker (no dynamic import there) up front
 */
export function makeJobs(lib, store, { loadMqtt } = {}) {
  const { load, save } = documents(store);

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
      homeassistant: () => settings.haUrl && secrets.haToken ? new lib.HomeAssistant({ url: settings.haUrl, token: secrets.haToken }) : null,
      mqtt: () => settings.mqttUrl ? { url: settings.mqttUrl, username: settings.mqttUsername || undefined, password: secrets.mqttPassword || undefined } : null,
    };
  }

  /** What a person should do about an error, in plain words. */
  function actionFor(code, service, retryAfter) {
    if (TARGETS.includes(service)) {
      if (code === 'auth_required' || code === 'invalid_credentials') {
        return service === 'mqtt' ? 'Check the user name and password in the MQTT card.' : 'Create a long-lived access token in your Home Assistant profile (Security tab), then enter it in the Home Assistant card.';
      }
      if (code === 'network' || code === 'unavailable') return `Check the address in the ${SERVICE[service]} card and that this browser can reach it, then sync again.`;
    }
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

  const problem = (service, err) => ({ service, code: err.code ?? 'unknown', message: withoutCliAdvice(err.message), action: actionFor(err.code, service, err.retryAfter) });

  // The MQTT naming of the CLI's defaults (mqtt.discovery_prefix, mqtt.base_topic).
  const naming = () => ({ prefix: 'homeassistant', base: 'wattbridge', version: VERSION, currency: 'EUR', weheatStates: lib.weheatStateNames() });

  /** Connect to the broker, run `fn(client, kit)`, disconnect (a one-off publish leaves `online` standing, as the CLI's does). */
  async function withBroker(target, fn) {
    const { kit, library } = await loadMqtt();
    const client = await kit.connectBroker({ ...target, naming: naming(), mqtt: library });
    try {
      return await fn(client, kit);
    } finally {
      await kit.disconnectBroker(client, naming());
    }
  }

  /**
   * Whether a target answers with the settings given: Home Assistant
   * authenticates (a run with no source sends the auth frame only and reads
   * HA's release), the broker accepts the login. Saved in the `targets`
   * document; resolves to the card's `{ok, atMs, detail} | {ok: false, code, message, action}`.
   */
  async function checkTarget(service) {
    const c = clients({ settings: await load('settings', DEFAULT_SETTINGS), secrets: await load('secrets', {}) });
    const result = await checkWith(service, c);
    await saveTargets({ [service]: result });
    return result;
  }

  const checkWith = (service, c) => outcome(service, async () => {
    if (service === 'mqtt') return withBroker(c.mqtt(), () => 'the broker accepted the login');
    const report = await lib.sync({ homeassistant: c.homeassistant(), store });
    if (report.ha.status === 'error') throw report.ha.error;
    return `Home Assistant ${report.ha.haVersion}`;
  });

  /** `fn()`'s text as a target's success, or its error as a problem with the action to take. */
  async function outcome(service, fn) {
    try {
      return { ok: true, atMs: Date.now(), detail: await fn() };
    } catch (err) {
      return { ok: false, atMs: Date.now(), ...problem(service, err) };
    }
  }

  async function saveTargets(results) {
    await save('targets', { ...(await load('targets', {})), ...results });
  }

  /**
   * One run: fetch what the dashboard draws, then sync() into EnergyID when
   * it is claimed and into Home Assistant's statistics when set, then publish
   * over MQTT when a broker is set. Saves the targets' outcome and
   * `{atMs, problems}`, and resolves to the latter; `onStep(text)` hears each step.
   */
  async function syncAll({ onStep = () => {} } = {}) {
    const state = { settings: await load('settings', DEFAULT_SETTINGS), secrets: await load('secrets', {}) };
    const c = clients(state);
    const problems = [];
    // `service` null: the error's own provider when the page has a card for it, else the run's.
    const step = async (service, what, fn) => {
      onStep(what);
      try { return await fn(); } catch (err) { problems.push(problem(service ?? (SERVICE[err.provider] ? err.provider : 'sync'), err)); return null; }
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
    const homeassistant = c.homeassistant();
    const broker = c.mqtt();
    const targets = {};
    if ((linky || weheat) && (claimed || homeassistant || broker)) {
      const names = [claimed && 'EnergyID', homeassistant && 'Home Assistant', broker && 'MQTT'].filter(Boolean).join(', ');
      // A run that throws failed before any target had its turn: the error is its provider's (HA alone and unreachable), else the run's.
      const report = await step(null, `Sending to ${names}…`, () => lib.sync({ linky, weheat, energyid: claimed ? energyid : null, homeassistant, mqtt: Boolean(broker), tariff: c.tariff(), since: daysAgo(30), maxWaitSeconds: 120, store }));
      if (report) {
        for (const [service, source] of Object.entries(report.sources)) if (source.status === 'error') problems.push(problem(service, source.error));
        if (report.energyid?.status === 'error') problems.push(problem('energyid', report.energyid.error));
        if (report.ha) {
          targets.homeassistant = await outcome('homeassistant', () => {
            if (report.ha.status === 'error') throw report.ha.error;
            return `Home Assistant ${report.ha.haVersion}; ${report.ha.imported} hourly rows imported in the last sync`;
          });
        }
        if (report.mqtt) {
          onStep('Publishing to MQTT…');
          // After EnergyID's turn, as the CLI does: a broker that is down costs EnergyID nothing.
          targets.mqtt = await outcome('mqtt', () => withBroker(broker, async (client, kit) => {
            const { devices } = await kit.collectDevices({ linky, weheat, energyid: claimed ? energyid : null, energy: report.mqtt.energy, energyidError: report.energyid?.error, tariff: c.tariff() });
            const messages = await kit.publishDevices(client, devices, naming());
            return `${devices.length} device${devices.length === 1 ? '' : 's'} published (${messages} messages) in the last sync`;
          }));
        }
      }
    } else if (homeassistant || broker) {
      // Nothing to deliver yet: at least say whether the targets answer.
      for (const service of TARGETS) if (c[service]()) targets[service] = await checkWith(service, c);
    }
    for (const { ok, service, code, message, action } of Object.values(targets)) if (!ok) problems.push({ service, code, message, action });
    await saveTargets(targets);
    // One line per service and cause: a fetch and sync() may meet the same one.
    const last = { atMs: Date.now(), problems: [...new Map(problems.map((p) => [`${p.service}:${p.code}`, p])).values()] };
    await save('last-sync', last);
    return last;
  }

  return { load, save, clients, actionFor, problem, syncAll, checkTarget, saveTargets };
}
