// The JavaScript fuzz targets: the parsers that only exist in JS (`energyid
// import` of CSV and JSON files, config.json), called as the CLI calls them.
//
// Run by the harness (fuzz/main.rs) as `node fuzz/js-targets.mjs <target>`:
// it reads inputs as frames (u32 LE length, bytes) on stdin and answers each
// with (u8 0 = ok / 1 = failure, u32 LE microseconds, u32 LE length, text).
// A WattbridgeError is the parser refusing the input, as it should; any other
// exception is a failure (the CLI would die with an internal error).
// tests/js/fuzz-regressions.test.mjs replays the failures saved before.
import { parseReadings } from '../js/cli/energyid-commands.js';
import { parseConfig, settingsLookup, warnOfSecretsIn, SETTINGS } from '../js/config.js';
import { WattbridgeError } from '../js/errors.js';

function config(text) {
  const file = '/home/person/.config/wattbridge/config.json';
  const fromFile = parseConfig(text, file);
  warnOfSecretsIn(file, fromFile, () => {});
  const lookup = settingsLookup({ file, fromFile, secrets: {}, env: {}, overrides: {} });
  return Object.keys(SETTINGS).map((key) => lookup(key)).length;
}

export const TARGETS = {
  'csv-import': (text) => parseReadings(text, 'readings.csv').length,
  'json-import': (text) => parseReadings(text, 'readings.json').length,
  'config-json': config,
};

/** Run one input: `{ failure }` for anything but a clean result or a WattbridgeError. */
export function check(target, bytes) {
  try {
    return { outcome: `ok:${TARGETS[target](Buffer.from(bytes).toString('utf8'))}` };
  } catch (err) {
    if (err instanceof WattbridgeError) return { outcome: `${err.code}:${err.message}` };
    const where = String(err?.stack ?? '').split('\n').find((line) => line.includes('/js/')) ?? '';
    // The first line (where it was thrown) tells failures apart.
    return { failure: `${where.trim() || 'somewhere'}\n${err?.name ?? typeof err}: ${err?.message ?? err}` };
  }
}

function serve(target) {
  if (!TARGETS[target]) throw new Error(`no JavaScript target ${target}`);
  // Chunks are joined only once a whole frame has arrived (joining on every
  // chunk copies a big input over and over).
  const chunks = [];
  let have = 0;
  let pending = Buffer.alloc(0);
  process.stdin.on('data', (chunk) => {
    chunks.push(chunk);
    have += chunk.length;
    const need = pending.length >= 4 ? 4 + pending.readUInt32LE(0) : 4;
    if (have < need) return;
    pending = Buffer.concat([pending, ...chunks.splice(0)]);
    have = pending.length;
    const answers = [];
    while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32LE(0)) {
      const length = pending.readUInt32LE(0);
      const input = pending.subarray(4, 4 + length);
      pending = pending.subarray(4 + length);
      const started = process.hrtime.bigint();
      const { outcome, failure } = check(target, input);
      const micros = Number((process.hrtime.bigint() - started) / 1000n);
      const text = Buffer.from(failure ?? outcome, 'utf8').subarray(0, 4096);
      const head = Buffer.alloc(9);
      head.writeUInt8(failure === undefined ? 0 : 1, 0);
      head.writeUInt32LE(Math.min(micros, 0xffffffff), 1);
      head.writeUInt32LE(text.length, 5);
      answers.push(head, text);
    }
    have = pending.length;
    if (answers.length) process.stdout.write(Buffer.concat(answers));
  });
  process.stdin.on('end', () => process.exit(0));
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) serve(process.argv[2]);
