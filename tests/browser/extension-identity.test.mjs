// Weheat by code + PKCE in the extension: the card's "Sign in on the Weheat
// page" goes through chrome.identity.launchWebAuthFlow with the extension's
// own redirect URL (getRedirectURL). The stand-in for the sign-in window
// follows the sandbox realm's authorize redirect from Node and hands back
// the URL it lands on, as Chrome's window would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sandbox } from '../js/helpers.mjs';
import { loadExtension, useSandbox, watchProblems } from './static.mjs';

test('Weheat code + PKCE through chrome.identity in the extension page', async () => {
  const sb = await sandbox({ weheat: { budgetPerHour: 0 } });
  const { context, id } = await loadExtension();
  const page = await context.newPage();
  const problems = watchProblems(page);
  const opened = [];
  await page.exposeFunction('signInWindow', async (url) => {
    opened.push(url);
    const answer = await fetch(url, { redirect: 'manual' });
    return answer.headers.get('location');
  });
  await page.addInitScript(() => {
    if (globalThis.chrome?.identity) chrome.identity.launchWebAuthFlow = ({ url }) => globalThis.signInWindow(url);
  });
  await page.goto(`chrome-extension://${id}/www/index.html?view=popup`);
  await useSandbox(page, sb);
  await page.click('#weheat-redirect');
  await page.locator('#card-weheat[data-state=ok]').waitFor({ timeout: 15_000 });
  assert.equal(await page.textContent('#weheat-state'), 'Connected through the Weheat sign-in page.');
  assert.equal(opened.length, 1);
  const asked = new URL(opened[0]);
  assert.equal(asked.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(asked.searchParams.get('redirect_uri'), `https://${id}.chromiumapp.org/`);
  const keys = await page.evaluate(async () => Object.keys(await chrome.storage.local.get(null)));
  assert.ok(keys.includes('wattbridge:tokens/weheat') && !keys.some((k) => k.endsWith('/pending')), keys.join(', '));
  assert.deepEqual(problems, []);
});
