// The page: renders what the library reports; all provider logic is in the package.
import { EnergyId } from '../js/browser.js';

const connectForm = document.querySelector('#energyid');
const readingForm = document.querySelector('#reading');
const status = document.querySelector('#status');
let energyid;

function show(kind, ...parts) {
  status.dataset.kind = kind;
  status.replaceChildren(...parts);
}

function link(href, text) {
  const a = document.createElement('a');
  a.href = href;
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
