/**
 * The pure parts of signed webhooks: which addresses a delivery refuses (every range, and IPv4 hidden in
 * IPv6), which callback URLs are accepted at submit, the secrets' format and sealing, and the resolver check
 * the delivery activity runs before it connects.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { checkedAddress } from '../../activities/webhooks.js';
import { generateSecretKey, parseSecretKey, SealedSecretError } from '../../core/sealed-secret.js';
import {
  callbackUrlProblem,
  generateWebhookSecret,
  MAX_CALLBACK_URL_CHARS,
  openWebhookSecret,
  refusedAddressReason,
  sealWebhookSecret,
} from '../../core/webhooks.js';

describe('webhook address rules', () => {
  const refused: [string, RegExp][] = [
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['10.0.0.1', /private/],
    ['10.255.255.255', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.10', /private/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.127.255.255', /carrier-grade NAT/],
    ['169.254.169.254', /link-local/],
    ['169.254.0.1', /link-local/],
    ['0.0.0.0', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['255.255.255.255', /reserved/],
    ['::', /unspecified/],
    ['::1', /loopback/],
    ['fc00::1', /unique local/],
    ['fd00:ec2::254', /unique local/],
    ['fe80::1', /link-local/],
    ['ff02::1', /multicast/],
    ['::ffff:127.0.0.1', /loopback/],
    ['::ffff:7f00:1', /loopback/],
    ['::ffff:169.254.169.254', /link-local/],
    ['64:ff9b::a00:1', /private/],
  ];
  for (const [address, reason] of refused) {
    it(`refuses ${address}`, () => assert.match(refusedAddressReason(address) ?? 'allowed', reason));
  }

  it('allows public addresses, including neighbours of the refused ranges', () => {
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '172.32.0.1',
      '172.15.255.255',
      '100.128.0.1',
      '100.63.255.255',
      '169.255.0.1',
      '11.0.0.1',
      '2606:4700:4700::1111',
      '2001:4860:4860::8888',
      '::ffff:8.8.8.8',
    ]) {
      assert.equal(refusedAddressReason(address), null, address);
    }
  });

  it('checks every resolved address before connecting, unless private addresses are allowed', async () => {
    await assert.rejects(checkedAddress(new URL('http://localhost:9/hook'), false), /localhost resolves to .*loopback/);
    await assert.rejects(checkedAddress(new URL('http://[::1]:9/hook'), false), /loopback/);
    await assert.rejects(checkedAddress(new URL('http://169.254.169.254/latest'), false), /link-local/);
    const local = await checkedAddress(new URL('http://127.0.0.1:9/hook'), true);
    assert.deepEqual(local, { address: '127.0.0.1', family: 4 });
    assert.deepEqual(await checkedAddress(new URL('https://8.8.8.8/hook'), false), { address: '8.8.8.8', family: 4 });
  });
});

describe('callback URLs at submit', () => {
  it('accepts absolute http(s) URLs', () => {
    assert.equal(callbackUrlProblem('https://example.com/hooks/folio?x=1'), null);
    assert.equal(callbackUrlProblem('http://receiver.internal:8080/h'), null);
  });

  it('refuses other schemes, relative URLs, credentials and overlong ones, saying what to send', () => {
    assert.match(callbackUrlProblem('ftp://example.com/x')!, /must use https.*"ftp"/);
    assert.match(callbackUrlProblem('file:///etc/passwd')!, /must use https/);
    assert.match(callbackUrlProblem('javascript:alert(1)')!, /must use https/);
    assert.match(callbackUrlProblem('/hooks')!, /not an absolute URL; send one like https:/);
    assert.match(callbackUrlProblem('https://user:pw@example.com/')!, /user name or password/);
    const long = `https://example.com/${'a'.repeat(MAX_CALLBACK_URL_CHARS)}`;
    assert.match(callbackUrlProblem(long)!, /at most 2048/);
  });
});

describe('webhook signing secrets', () => {
  it('are whsec_ + base64 of 32 random bytes, usable by standardwebhooks', () => {
    const secret = generateWebhookSecret();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(secret.slice('whsec_'.length), 'base64').length, 32);
    assert.notEqual(generateWebhookSecret(), secret);
    const hook = new Webhook(secret);
    const body = '{"type":"job.completed"}';
    const now = new Date();
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': hook.sign('msg_1', now, body),
    };
    assert.deepEqual(hook.verify(body, headers), { type: 'job.completed' });
  });

  it('are sealed for their key: another key id or another DOCUMENT_SECRET_KEY does not open them', () => {
    const key = parseSecretKey(generateSecretKey())!;
    const secret = generateWebhookSecret();
    const sealed = sealWebhookSecret(key, 'key-a', secret);
    assert.ok(!sealed.includes(secret.slice(6, 20)));
    assert.equal(openWebhookSecret(key, 'key-a', sealed), secret);
    assert.throws(() => openWebhookSecret(key, 'key-b', sealed), SealedSecretError);
    assert.throws(() => openWebhookSecret(parseSecretKey(generateSecretKey())!, 'key-a', sealed), SealedSecretError);
  });
});
