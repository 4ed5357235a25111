// In a page or extension the VEN runs on the browser's fetch, which checks the
// VTN's certificate itself: caFile and checkHostname=false cannot apply there
// and are refused with the reason. This file imports the VEN module without
// the Node entry, so it runs with the defaults the browser entry keeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAdrVen } from '../../js/openadr.js';

for (const options of [{ caFile: 'vtn-ca.pem' }, { checkHostname: false }]) {
  test(`a page refuses ${JSON.stringify(options)}, saying why`, async () => {
    const ven = new OpenAdrVen({ vtnUrl: 'https://127.0.0.1:9/OpenADR2/Simple/2.0b', venName: 'page', ...options });
    await assert.rejects(ven.start(), (err) => {
      assert.equal(err.code, 'invalid_input');
      assert.match(err.message, /caFile and checkHostname work in Node only: in a web page or extension the browser checks the VTN's certificate itself/);
      return true;
    });
  });
}

test('a page takes checkHostname: true (what the browser does anyway) and fails only on the network', async () => {
  const ven = new OpenAdrVen({ vtnUrl: 'https://127.0.0.1:9/OpenADR2/Simple/2.0b', venName: 'page', checkHostname: true });
  await assert.rejects(ven.start(), (err) => err.code === 'network');
});
