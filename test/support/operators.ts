import { hashPassword } from '../../src/admin/operators.service.js';
import type { AppModels } from '../../core/db/models.js';

/**
 * Makes sure a panel operator with this e-mail and password exists. ADMIN_EMAIL only seeds the first
 * operator of an empty table, so tests that run after others create their own. Takes the test's models:
 * model classes are bound to one connection at a time.
 */
export async function ensureOperator(
  models: Pick<AppModels, 'Operator'>,
  email: string,
  password: string,
): Promise<void> {
  const passwordHash = await hashPassword(password);
  const existing = await models.Operator.findOne({ where: { email } });
  if (existing) await existing.update({ passwordHash, disabled: false });
  else await models.Operator.create({ email, name: email, passwordHash });
}
