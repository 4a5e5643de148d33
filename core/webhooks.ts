/**
 * Signed webhooks, the parts the API and the worker share: signing secrets (Standard Webhooks' `whsec_` +
 * base64 of random bytes, sealed at rest), the checks on a callback URL at submit, and the address rules
 * every delivery applies to the host it resolved (no server-side request forgery).
 */
import { randomBytes } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { open, seal } from './sealed-secret.js';

/** Longest callback URL accepted, in characters. */
export const MAX_CALLBACK_URL_CHARS = 2048;

/** Random bytes in a signing secret (Standard Webhooks asks for 24 to 64). */
const SECRET_BYTES = 32;

/** A new signing secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** What a secret is sealed for: its key, so a sealed secret copied to another key does not open. */
function sealedFor(apiKeyId: string): string {
  return `webhook-secret:${apiKeyId}`;
}

/** Seals a key's signing secret with DOCUMENT_SECRET_KEY (AES-256-GCM, bound to the key's id). */
export function sealWebhookSecret(key: Buffer, apiKeyId: string, secret: string): string {
  return seal(key, sealedFor(apiKeyId), secret);
}

/** Opens a sealed signing secret; throws SealedSecretError when key or key id do not match. */
export function openWebhookSecret(key: Buffer, apiKeyId: string, sealed: string): string {
  return open(key, sealedFor(apiKeyId), sealed);
}

/**
 * Why a callback URL is refused, or null when it is acceptable at submit: an absolute http(s) URL without
 * credentials, at most MAX_CALLBACK_URL_CHARS long. Addresses are checked at delivery, when the host resolves.
 */
export function callbackUrlProblem(raw: string): string | null {
  if (raw.length > MAX_CALLBACK_URL_CHARS) {
    return `callbackUrl is ${raw.length} characters long; send one of at most ${MAX_CALLBACK_URL_CHARS}.`;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `callbackUrl "${raw.slice(0, 100)}" is not an absolute URL; send one like https://example.com/hooks/folio.`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return `callbackUrl must use https (or http); "${url.protocol.slice(0, -1)}" is not accepted.`;
  }
  if (url.username || url.password) {
    return 'callbackUrl must not carry a user name or password; verify deliveries by their signature instead.';
  }
  return null;
}

/** Address ranges a webhook is never delivered to unless WEBHOOK_ALLOW_PRIVATE=true, each with its name. */
const REFUSED_RANGES: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'ipv4', 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'ipv4', 'carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (and cloud metadata)'],
  ['172.16.0.0', 12, 'ipv4', 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'ipv4', 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved and broadcast'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fc00::', 7, 'ipv6', 'unique local (includes fd00:ec2::254, cloud metadata)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

const refused = REFUSED_RANGES.map(([net, prefix, family, name]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return { list, family, name };
});

/** An IPv4 address an IPv6 one carries (IPv4-mapped ::ffff:a.b.c.d, or NAT64 64:ff9b::/96), if any. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
  }
  return undefined;
}

/**
 * Why a webhook may not be delivered to `address` (an IP literal), e.g. "loopback", or null when it may.
 * IPv4 addresses inside IPv6 (mapped, NAT64) are judged as the IPv4 address they carry.
 */
export function refusedAddressReason(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const v4 = family === 6 ? embeddedIpv4(address) : address;
  const [ip, fam] = v4 !== undefined ? [v4, 'ipv4' as const] : [address, 'ipv6' as const];
  for (const r of refused) if (r.family === fam && r.list.check(ip, fam)) return r.name;
  return null;
}
