/** What makes an operator password acceptable: the rule config validation and the panel both apply. */

/** The operator `npm start` creates for local use (scripts/dev.ts); published, so never valid in production. */
export const DEVELOPMENT_OPERATOR = { email: 'admin@folio.local', password: 'folio-development' } as const;

/** Shortest operator password accepted. */
export const MIN_PASSWORD_LENGTH = 12;

/** Why a password is too weak, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `at least ${MIN_PASSWORD_LENGTH} characters`;
  if (new Set(password).size < 6) return 'at least 6 different characters';
  if (password === DEVELOPMENT_OPERATOR.password) return 'it is the published development password';
  return null;
}
