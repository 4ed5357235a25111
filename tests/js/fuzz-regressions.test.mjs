// Inputs the fuzzer (`npm run fuzz`) found to break a JavaScript parser, kept
// in tests/fixtures/fuzz-regressions/<target>/ and replayed through the same
// function the harness calls: each must now be refused with a WattbridgeError
// (or read), quickly. The Rust targets' files are replayed by cargo test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { check, TARGETS } from '../../fuzz/js-targets.mjs';

const root = new URL('../fixtures/fuzz-regressions/', import.meta.url);

for (const target of Object.keys(TARGETS)) {
  test(`${target}: saved fuzz failures are handled`, () => {
    let files = [];
    try {
      files = readdirSync(new URL(`${target}/`, root));
    } catch (err) {
      if (err.code !== 'ENOENT') throw err;
    }
    for (const name of files) {
      const input = readFileSync(join(new URL(`${target}/`, root).pathname, name));
      const started = performance.now();
      const { failure } = check(target, input);
      assert.equal(failure, undefined, `${target}/${name}`);
      assert.ok(performance.now() - started < 1000, `${target}/${name} took over 1 s`);
    }
  });
}
