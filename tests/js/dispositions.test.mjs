// One error table: the package exports Rust's dispositions, and the CLI's exit
// codes are those of that table for every code the README documents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { disposition, exitCodeOf } from 'wattbridge';
import { exitCodeOf as cliExitCode } from '../../js/cli/exit-codes.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const EXIT = { person: 3, retry_later: 4, bad_input: 2 };

/** The README's disposition table: code → disposition. */
function documented() {
  const table = {};
  for (const [, name, codes] of readme.matchAll(/^\| `(person|retry_later|bad_input)` \| ([^|]+) \|/gm)) {
    for (const [, code] of codes.matchAll(/`([a-z_]+)`/g)) table[code] = name;
  }
  return table;
}

test('every documented error code has the documented disposition and exit code', async () => {
  const table = documented();
  const types = readFileSync(new URL('../../js/index.d.ts', import.meta.url), 'utf8');
  const union = types.slice(types.indexOf('export type ErrorCode'), types.indexOf(';', types.indexOf('export type ErrorCode')));
  const codes = [...union.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]);
  assert.equal(codes.length, 22);
  assert.deepEqual(Object.keys(table).sort(), [...codes].sort(), 'the README table lists exactly the typed codes');
  for (const code of codes) {
    assert.equal(disposition(code), table[code], code);
    assert.equal(exitCodeOf(code), EXIT[table[code]], code);
    assert.equal(await cliExitCode({ code }), EXIT[table[code]], `the CLI exits as the table says for ${code}`);
  }
});

test('an unknown code or a plain error is exit 1, with no disposition', async () => {
  assert.equal(disposition('no_such_code'), undefined);
  assert.equal(exitCodeOf('no_such_code'), 1);
  assert.equal(await cliExitCode(new TypeError('a bug')), 1);
  assert.equal(await cliExitCode(undefined), 1);
});
