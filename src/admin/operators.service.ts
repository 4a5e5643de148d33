import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import bcrypt from 'bcryptjs';
import type { CurrentAdmin } from 'adminjs';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { DEVELOPMENT_OPERATOR, passwordProblem } from '../config/operator-password.js';
import { APP_MODELS } from '../database/database.module.js';
import type { AppModels } from '../../core/db/models.js';
import { recordAudit, scriptActor } from '../../core/audit.js';

const BCRYPT_ROUNDS = 12;

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_ROUNDS);
}

/** Operator accounts: sign-in for the panel and the first operator from the environment. */
@Injectable()
export class OperatorsService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Operators');

  constructor(
    @Inject(APP_MODELS) private readonly models: AppModels,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** Creates the first operator from ADMIN_EMAIL / ADMIN_PASSWORD when there is none yet. */
  async onApplicationBootstrap(): Promise<void> {
    const production = this.config.env === 'production';
    if (production) await this.refuseDevelopmentOperator();
    if ((await this.models.Operator.count()) > 0) return;
    const { email, password } = this.config.admin;
    if (!email || !password) {
      const message = 'No operator exists yet: set ADMIN_EMAIL and ADMIN_PASSWORD to create the first one on start.';
      if (production) throw new Error(message);
      this.logger.warn(`${message} The admin panel cannot be signed in to until then.`);
      return;
    }
    // Production refuses a weak ADMIN_PASSWORD at config validation (src/config/config.ts).
    const problem = passwordProblem(password);
    if (problem) this.logger.warn(`ADMIN_PASSWORD is too weak (${problem}). Accepted outside production only.`);
    const operator = await this.models.Operator.create({
      email: email.toLowerCase(),
      name: 'Administrator',
      passwordHash: await hashPassword(password),
    });
    await recordAudit(this.models, scriptActor('ADMIN_EMAIL at start'), {
      action: 'operator.create',
      targetType: 'operator',
      targetId: operator.id,
      after: { email: operator.email, name: operator.name, disabled: operator.disabled, passwordChanged: true },
    });
    this.logger.log(`created the first operator ${email}`);
  }

  /** A database first used by `npm start` keeps its development operator: production must not start with it. */
  private async refuseDevelopmentOperator(): Promise<void> {
    const dev = await this.models.Operator.findOne({ where: { email: DEVELOPMENT_OPERATOR.email, disabled: false } });
    if (dev && (await bcrypt.compare(DEVELOPMENT_OPERATOR.password, dev.passwordHash))) {
      throw new Error(
        `The operator ${DEVELOPMENT_OPERATOR.email} still has the development password: disable it or change its password before starting in production.`,
      );
    }
  }

  /** Checks an operator's credentials; records the sign-in. Null for unknown, wrong or disabled. */
  async authenticate(email: string, password: string): Promise<CurrentAdmin | null> {
    const operator = await this.models.Operator.findOne({ where: { email: String(email).toLowerCase() } });
    // Compare against a fixed hash when the operator is unknown, so timing does not reveal who exists.
    const ok = await bcrypt.compare(String(password), operator?.passwordHash ?? DUMMY_HASH);
    if (!operator || !ok || operator.disabled) return null;
    await operator.update({ lastLoginAt: new Date() });
    return { id: operator.id, email: operator.email, title: operator.name ?? operator.email };
  }
}

const DUMMY_HASH = bcrypt.hashSync('folio-not-a-password', BCRYPT_ROUNDS);
