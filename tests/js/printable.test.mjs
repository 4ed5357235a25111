// Remote text reaches the terminal shown, never interpreted; remote URLs
// become links in the page only when they are https (or loopback http).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printable } from '../../js/cli/terminal.js';
import { renderDeviceVerification } from '../../js/cli/login.js';
import { safeHref } from '../../www/links.js';

test('escape sequences, C1 controls and bidi overrides from a service never reach the terminal', () => {
  const hostile = {
    user_code: 'ABCD-EFGH\u001b]0;pwned\u0007',
    verification_uri: 'https://gateway.example/device\u001b[2J\u001b[1;1H',
    verification_uri_complete: 'https://evil.example/\u202egnp.eciveD\u202c\u009b31m',
    expires_in: 600,
  };
  const shown = renderDeviceVerification(hostile);
  assert.doesNotMatch(shown, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  assert.match(shown, /ABCD-EFGH\]0;pwned/, 'the text itself is kept, only the controls go');
  assert.match(shown, /\n/, 'line breaks stay');
  assert.equal(printable('kWh\télé 🌞\n'), 'kWh\télé 🌞\n');
});

test('only https and loopback http claim URLs become links', () => {
  assert.equal(safeHref('https://app.energyid.eu/integrations/webhook-in/new?code=1'), 'https://app.energyid.eu/integrations/webhook-in/new?code=1');
  assert.equal(safeHref('http://127.0.0.1:8080/energyid/claim?code=1'), 'http://127.0.0.1:8080/energyid/claim?code=1');
  for (const bad of ['javascript:alert(document.cookie)', 'JavaScript:alert(1)', 'data:text/html,<script>1</script>', 'http://evil.example/claim', 'not a url', 'vbscript:msgbox']) {
    assert.equal(safeHref(bad), null, bad);
  }
});
