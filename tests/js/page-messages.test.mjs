// The page's errors in plain words: the library's messages end with advice for
// people at a terminal; the page shows them without it, beside its own action.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Linky, Weheat, MemoryStore } from 'wattbridge';
import { withoutCliAdvice } from '../../www/jobs.js';

test('library messages lose their CLI advice and keep what happened', async () => {
  const store = new MemoryStore();
  // Real messages from the library: not logged in, to Linky and to Weheat.
  const linky = await new Linky({ store }).status();
  assert.match(linky.problem.message, /`wattbridge linky login`/);
  assert.equal(withoutCliAdvice(linky.problem.message), 'not logged in to Linky.');
  const weheat = await new Weheat({ store }).pumps().catch((err) => err);
  assert.match(weheat.message, /`wattbridge weheat login`/);
  assert.doesNotMatch(withoutCliAdvice(weheat.message), /wattbridge/);

  // The shapes the providers use: advice after ': ' or '; ', or in brackets.
  const cases = [
    ['no valid consent for meter 11111111111111 (Enedis says: ADAM-ERR0069): consents last at most 3 years and can be revoked; give a new one with `wattbridge linky login`',
      'no valid consent for meter 11111111111111 (Enedis says: ADAM-ERR0069): consents last at most 3 years and can be revoked.'],
    ['Weheat knows no heat pump abc: check the heat pump id (`wattbridge weheat pumps`)', 'Weheat knows no heat pump abc.'],
    ['Jeedom refused the API key: copy it from Jeedom (Settings → System → Configuration → API) into WATTBRIDGE_JEEDOM_API_KEY or `wattbridge config init`, and check that the API is enabled', 'Jeedom refused the API key.'],
    ['the WebSocket failed: Home Assistant at 127.0.0.1:1 closed the connection', 'the WebSocket failed: Home Assistant at 127.0.0.1:1 closed the connection'],
  ];
  for (const [message, shown] of cases) assert.equal(withoutCliAdvice(message), shown);
});
