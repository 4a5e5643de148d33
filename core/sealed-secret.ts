import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Document passwords sealed with AES-256-GCM under DOCUMENT_SECRET_KEY, bound to their job id (the
 * additional authenticated data), so a sealed value is useless to any other job and tampering is detected.
 * Only sealed values travel through Temporal (workflow input, update arguments, activity input) and the
 * API never logs or stores the clear text; the activity opens it just before handing it to pdf.js.
 * Format: `v1.<iv>.<ciphertext>.<tag>`, each part base64url.
 */
export type SealedSecret = string;

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Raised when a sealed value cannot be opened: another key, another job, or altered. */
export class SealedSecretError extends Error {
  override name = 'SealedSecretError';
}

/** Reads a 32-byte key given as 64 hex digits or as base64 / base64url; undefined when it is not one. */
export function parseSecretKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(trimmed)) {
    const key = Buffer.from(trimmed, 'base64');
    if (key.length === 32) return key;
  }
  return undefined;
}

/** A new random key in the form DOCUMENT_SECRET_KEY takes (base64). */
export function generateSecretKey(): string {
  return randomBytes(32).toString('base64');
}

/** Seals `secret` for `jobId`. A fresh random IV each time, so equal passwords never look alike. */
export function seal(key: Buffer, jobId: string, secret: string): SealedSecret {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(jobId, 'utf8'));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [VERSION, iv, body, cipher.getAuthTag()]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/** Opens a value sealed for `jobId`; throws SealedSecretError when the key, job or bytes do not match. */
export function open(key: Buffer, jobId: string, sealed: SealedSecret): string {
  const [version, iv, body, tag, ...rest] = sealed.split('.');
  if (version !== VERSION || iv === undefined || body === undefined || tag === undefined || rest.length > 0) {
    throw new SealedSecretError('not a sealed secret of this version');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(jobId, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    // The cause says nothing useful and must not carry bytes into logs.
    throw new SealedSecretError('the sealed secret does not open with this key for this job');
  }
}
