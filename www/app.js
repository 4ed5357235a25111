// The page: renders what the library reports; all provider logic is in the package.
import { EnergyId, Linky, Weheat, sync } from '../js/browser.js';
import { safeHref } from './links.js';

const connectForm = document.querySelector('#energyid');
const readingForm = document.querySelector('#reading');
const syncForm = document.querySelector('#sync');
const syncReport = document.querySelector('#sync-report');
const status = document.querySelector('#status');
let energyid;

function show(kind, ...parts) {
  status.dataset.kind = kind;
  status.replaceChildren(...parts);
}

/** A link to `href` when it is https (or http to this machine); otherwise the URL as plain text. */
function link(href, text) {
  const safe = safeHref(href);
  if (!safe) return document.createTextNode(`${text} (${href})`);
  const a = document.createElement('a');
  a.href = safe;
  a.target = '_blank';
  a.rel = 'noopener';
  a.textContent = text;
  return a;
}

function showError(err) {
  show('error', `${err.message}${err.code ? ` [${err.code}]` : ''}`);
}

connectForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const settings = Object.fromEntries(new FormData(connectForm));
  try {
    energyid = new EnergyId({ ...settings, deviceName: 'wattbridge (browser)' });
    const hello = await energyid.hello();
    if (hello.status === 'needs_claiming') {
      const until = new Date(hello.expiresAt * 1000).toLocaleTimeString();
      show('claim', 'Not claimed yet: open ', link(hello.claimUrl, 'the claim page'),
        ` or enter code `, Object.assign(document.createElement('code'), { id: 'claim-code', textContent: hello.claimCode }),
        ` in the EnergyID app before ${until}, then press Connect again.`);
      readingForm.hidden = true;
    } else {
      show('claimed', `Connected to record "${hello.recordName}" (${hello.recordNumber}).`);
      readingForm.hidden = false;
      syncForm.hidden = false;
    }
  } catch (err) {
    showError(err);
  }
});

readingForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const values = Object.fromEntries(
    [...new FormData(readingForm)].filter(([, v]) => v !== '').map(([k, v]) => [k, Number(v)]),
  );
  try {
    const sent = await energyid.send({ ts: new Date(), ...values });
    const waiting = sent.remaining
      ? ` ${sent.remaining} value(s) wait in the outbox: the record allows the next upload at ${new Date(sent.nextUploadAtMs).toLocaleTimeString()}.`
      : '';
    show('sent', `Sent ${sent.readings} reading(s) in ${sent.requests} request(s).${waiting}`);
  } catch (err) {
    showError(err);
  }
});

syncForm.since.valueAsDate ??= new Date(Date.now() - 30 * 86_400_000);

syncForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = Object.fromEntries(new FormData(syncForm));
  const lines = [];
  const say = (line) => {
    lines.push(line);
    syncReport.textContent = lines.join('\n');
  };
  try {
    const linky = form.consoToken ? new Linky({ consoApiUrl: form.consoApiUrl, consoToken: form.consoToken }) : null;
    let weheat = null;
    if (form.weheatUser) {
      weheat = new Weheat({ authUrl: form.weheatAuthUrl, apiUrl: form.weheatApiUrl });
      await weheat.oauth().loginWithPassword({ username: form.weheatUser, password: form.weheatPassword });
      syncForm.weheatPassword.value = '';
    }
    if (!linky && !weheat) throw Object.assign(new Error('give a Linky token or a Weheat login (or both)'), { code: 'invalid_input' });
    say('Syncing…');
    const report = await sync({
      linky,
      weheat,
      energyid,
      since: form.since || undefined,
      maxWaitSeconds: 120,
      onProgress: ({ stage, done, total }) => done === total && say(`  ${stage}: ${done}/${total}`),
    });
    for (const [name, source] of Object.entries(report.sources)) {
      say(source.status === 'ok' ? `${name}: ${source.readings} new readings (${source.requests} requests)` : `${name}: ${source.error.message} [${source.error.code}]`);
    }
    const e = report.energyid;
    say(e.status === 'error' ? `EnergyID: ${e.error.message} [${e.error.code}]` : `EnergyID: sent ${e.readings} readings in ${e.requests} request(s); ${e.remaining} value(s) wait.`);
    say(report.ok ? 'Sync finished.' : 'Sync finished with problems (see above); nothing is lost, run it again later.');
  } catch (err) {
    say(`${err.message}${err.code ? ` [${err.code}]` : ''}`);
  }
});
