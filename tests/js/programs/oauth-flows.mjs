// Runs every OAuth flow against the peer named in PEER (JSON of its endpoints)
// and prints what a user's script would: results and error messages. The
// parent test reads all of this output, plus the debug log, and looks for secrets.
import { OAuthClient, FileStore, startLoopbackReceiver } from 'wattbridge';

const peer = JSON.parse(process.env.PEER);
const store = new FileStore(process.env.STATE_DIR);

const say = (label, value) => console.log(`${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
const attempt = async (label, run) => {
  try {
    say(label, await run());
  } catch (err) {
    say(`${label} failed`, `${err.name} ${err.code} ${err.message} ${JSON.stringify(err)}`);
  }
};

const password = new OAuthClient({ ...peer.settings.password, store, storeKey: 'tokens/password', refreshMarginSecs: 3600 });
await attempt('password login', () => password.loginWithPassword(peer.user));
await attempt('wrong password', () => password.loginWithPassword({ ...peer.user, password: peer.wrongPassword }));
await attempt('userinfo with refresh', () => password.fetch(peer.endpoints.userinfo));
await attempt('status', () => password.status());

const device = new OAuthClient({ ...peer.settings.device, store, storeKey: 'tokens/device' });
await attempt('device login', () => device.loginWithDeviceCode({
  onVerification: (v) => say('APPROVE', v.verification_uri_complete),
}));
await attempt('device userinfo', () => device.fetch(peer.endpoints.userinfo));

const pkce = new OAuthClient({ ...peer.settings.pkce, store, storeKey: 'tokens/pkce' });
const receiver = await startLoopbackReceiver();
const { url } = await pkce.authorizationUrl({ redirectUri: receiver.redirectUri });
say('APPROVE-PKCE', url);
await attempt('pkce login', async () => pkce.completeAuthorization(await receiver.callbackUrl));
await attempt('pkce userinfo', () => pkce.fetch(peer.endpoints.userinfo));

await attempt('logout', () => password.logout());
await attempt('after logout', () => password.accessToken());
console.log('DONE');
