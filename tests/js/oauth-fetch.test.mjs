// OAuthClient.fetch sends the access token only to the services it was set up for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OAuthClient, MemoryStore } from 'wattbridge';

test('fetch refuses, before anything is sent, a URL outside the configured services', async () => {
  const client = new OAuthClient({ provider: 'peer', clientId: 'c', tokenUrl: 'https://auth.example/token', apiUrls: ['https://api.example'], store: new MemoryStore() });
  for (const url of ['https://evil.example/collect', 'http://api.example/v1', 'https://api.example.evil.example/']) {
    await assert.rejects(client.fetch(url), (err) => err.code === 'invalid_input' || err.code === 'invalid_config', url);
  }
  // A configured service gets as far as asking for a token (there is none: a login is needed).
  await assert.rejects(client.fetch('https://api.example/v1/me'), (err) => err.code === 'auth_required');
});
