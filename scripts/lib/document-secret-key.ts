import fs from 'node:fs';
import path from 'node:path';
import { generateSecretKey, parseSecretKey } from '../../core/sealed-secret.js';

/**
 * The DOCUMENT_SECRET_KEY of a local run: read from `file`, or generated once and kept there (mode 0600),
 * so passwords sealed before a restart still open after it. Never in the repository: `file` is under data/.
 */
export function localDocumentSecretKey(file: string): string {
  if (fs.existsSync(file)) {
    const key = fs.readFileSync(file, 'utf8').trim();
    if (!parseSecretKey(key))
      throw new Error(`${file} does not hold a valid DOCUMENT_SECRET_KEY; remove it to get a new one`);
    return key;
  }
  const key = generateSecretKey();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
