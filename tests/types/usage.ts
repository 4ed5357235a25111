// Type-checked in CI (scripts/test.sh, `tsc -p tests/types`): the package's
// declarations compile against the types generated from Rust, and a user's
// code reads the results as the README shows. Never run, only compiled.
import { EnergyId, Linky, Weheat, HomeAssistant, Jeedom, importStatistics, pushToJeedom, sync, disposition, exitCodeOf, WattbridgeError } from 'wattbridge';
import type { FetchReport, SendReport, HelloSummary, LinkyStatus, SyncReport, WatchEvent, Disposition } from 'wattbridge';

export async function example(): Promise<void> {
  const linky = new Linky({ consoToken: 'token', consoBudget: 60 });
  const report: FetchReport = await linky.fetch('load-curve', { from: new Date() });
  const windows: number = report.windows;
  const first: string = report.from;
  const status: LinkyStatus = await linky.status();
  const lastDay: string | null = status.series[0]?.lastDay ?? null;
  const consoLeft: number | null = status.consoBudget?.left ?? null;
  const stats = await linky.stats({ tariff: { tariff: 'base', priceBase: 0.2 } });
  const yesterday: number = stats.periods.yesterday.kwh;

  const energyid = new EnergyId({ provisioningKey: 'k', provisioningSecret: 's' });
  const hello: HelloSummary = await energyid.hello();
  if (hello.status === 'needs_claiming') {
    const code: string = hello.claimCode;
    void code;
  }
  const sent: SendReport = await energyid.send({ ts: new Date(), el: 1250.5 });
  const next: number | null = sent.nextUploadAtMs;

  const weheat = new Weheat();
  await weheat.watch({
    onEvent: (event: WatchEvent) => {
      if (event.event === 'latest') {
        const cop: number | null = event.cop;
        void cop;
      }
    },
  });

  const result: SyncReport = await sync({ linky, weheat, energyid, since: '2026-01-01' });
  const ok: boolean = result.ok;
  const homeassistant = new HomeAssistant({ url: 'http://127.0.0.1:8123', token: 't' });
  const imported = await importStatistics({ linky, weheat, homeassistant, tariff: { tariff: 'base', priceBase: 0.2 } });
  const rows: number = imported.ha && 'status' in imported.ha && imported.ha.status === 'ok' ? imported.ha.imported : 0;
  void rows;
  const jeedom = new Jeedom({ url: 'http://127.0.0.1/jeedom', apiKey: 'k', object: 'Maison' });
  const pushed = await pushToJeedom({ linky, weheat, jeedom, since: '2026-01-01' });
  const written: number = pushed.jeedom && 'status' in pushed.jeedom && pushed.jeedom.status === 'ok' ? pushed.jeedom.written : 0;
  void written;
  const what: Disposition | undefined = disposition('consent_required');
  const exit: number = exitCodeOf('busy');
  const err = new WattbridgeError('x', { code: 'busy' });
  void [windows, first, lastDay, consoLeft, yesterday, next, ok, what, exit, err];
}

// wattbridge/mqtt
import { discoveryMessages, type Device } from 'wattbridge/mqtt';
const meter: Device = { kind: 'linky', id: 'linky_1', name: 'Linky 1', manufacturer: 'Enedis', model: 'Linky', values: { energy: 1.5, consent: 'ok' } };
const configs: { topic: string }[] = discoveryMessages([meter], { prefix: 'homeassistant', base: 'wattbridge', version: '0' });
void configs;
// The README's page snippet (mqtt.js passed in; here any module with connectAsync).
import { collectDevices, connectBroker, publishDevices } from 'wattbridge/mqtt';
export async function fromPage(mqtt: { connectAsync: Function }, password: string): Promise<number> {
  const naming = { prefix: 'homeassistant', base: 'wattbridge', version: '0.1.0', haStatus: 'homeassistant/status' };
  const { devices } = await collectDevices({ linky: new Linky() });
  const client = await connectBroker({ url: 'wss://ha.example/mqtt', username: 'home', password, naming, mqtt });
  return publishDevices(client, devices, naming);
}

// wattbridge/init (a service worker: no top-level await) and wattbridge/browser-stores
import { init, Linky as LazyLinky } from 'wattbridge/init';
import { defaultBrowserStore, type Store } from 'wattbridge/browser-stores';
export async function inWorker(): Promise<string[]> {
  const store: Store = defaultBrowserStore();
  await init();
  return new LazyLinky({ consoToken: 'token', store }).meters();
}

// OpenADR: the TLS options (Node) and the two reading forms.
import { OpenAdrVen, type OpenAdrNotice, type OpenAdrReading } from 'wattbridge';
export async function venExample(): Promise<void> {
  const ven = new OpenAdrVen({ vtnUrl: 'https://192.0.2.10/OpenADR2/Simple/2.0b', venName: 'home', caFile: 'vtn-ca.pem', checkHostname: false });
  ven.addReport(() => 1500, { resourceId: 'meter1', measurement: 'powerReal' });
  ven.addReport(async () => ({ online: true, manualOverride: false, loadControlState: { setPoint: { current: 21.5 } } }), { resourceId: 'pump', reportName: 'TELEMETRY_STATUS' });
  ven.onNotice((notice: OpenAdrNotice) => {
    if (notice.type === 'reportReceived') {
      const reading: OpenAdrReading = notice.values[0].value;
      void reading;
    }
  });
  await ven.start();
}
