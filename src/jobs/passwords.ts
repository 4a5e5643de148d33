import { ApiError } from '../common/errors.js';
import { seal } from '../../core/sealed-secret.js';
import type { Config } from '../config/config.js';
import type { SealedPassword } from '../../core/contracts.js';

/** Longest password accepted, in characters (PDF passwords are at most 127 bytes; this leaves room). */
export const MAX_PASSWORD_CHARS = 1024;

/**
 * Seals a client's document password for one job: what the API hands to Temporal and keeps for retries.
 * The clear text goes no further than this call; messages never repeat it.
 */
export function sealDocumentPassword(config: Config, jobId: string, password: string): SealedPassword {
  if (password.length > MAX_PASSWORD_CHARS) {
    throw new ApiError('PASSWORD_INVALID', `The password is longer than ${MAX_PASSWORD_CHARS} characters.`);
  }
  const key = config.documentPasswords.secretKey;
  if (!key) {
    throw new ApiError(
      'PASSWORDS_UNAVAILABLE',
      'This server has no DOCUMENT_SECRET_KEY, so it cannot accept document passwords; ask its operator to set one.',
    );
  }
  return seal(key, jobId, password);
}
