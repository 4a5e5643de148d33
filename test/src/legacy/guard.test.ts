/**
 * The legacy DB is guarded twice: the models and the connection refuse deletes and schema changes in code,
 * and the role the app uses may only SELECT, INSERT and UPDATE in the database itself.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Sequelize, DataTypes } from 'sequelize';
import { createSequelize } from '../../../core/db/connections.js';
import { guardLegacyConnection, LegacyWriteRefused } from '../../../src/legacy/guard.js';
import { initLegacyModels } from '../../../src/legacy/models.js';
import { createLegacyFixture } from '../../../scripts/legacy-fixture.js';
import { grantLegacyRole } from '../../../scripts/legacy-role.js';
import { harnessEnv } from '../../support/stack.js';

describe('legacy DB guards', () => {
  const env = harnessEnv();
  const ownerUrl = env.LEGACY_DATABASE_URL!;
  const db = guardLegacyConnection(createSequelize(ownerUrl, 2, 'legacy'));
  const { LegacyJob } = initLegacyModels(db);

  before(async () => {
    await createLegacyFixture(ownerUrl);
  });
  after(async () => {
    await db.close();
  });

  it('the fixture fills legacy_jobs and the models read, insert and update it', async () => {
    assert.ok((await LegacyJob.count()) >= 5);
    const id = `legacy-test-${randomBytes(4).toString('hex')}`;
    await LegacyJob.create({
      jobId: id,
      filename: 'x.pdf',
      status: 'queued',
      currentStep: 'upload',
      progressPercentage: 0,
      errorMessage: null,
      contentId: null,
    });
    await LegacyJob.update({ status: 'completed', progressPercentage: 100 }, { where: { jobId: id } });
    assert.equal((await LegacyJob.findByPk(id))?.status, 'completed');
  });

  it('refuses destroy, bulk destroy, truncate, drop, sync and every schema change, and the rows stay', async () => {
    const count = await LegacyJob.count();
    const row = await LegacyJob.findOne();
    assert.ok(row);
    const qi = db.getQueryInterface();
    const attempts: [string, () => Promise<unknown>][] = [
      ['instance destroy', () => row.destroy()],
      ['Model.destroy (bulk)', () => LegacyJob.destroy({ where: {} })],
      ['Model.destroy truncate', () => LegacyJob.destroy({ truncate: true })],
      ['Model.truncate', () => LegacyJob.truncate()],
      ['Model.drop', () => LegacyJob.drop()],
      ['Model.sync', () => LegacyJob.sync()],
      ['Model.sync alter', () => LegacyJob.sync({ alter: true })],
      ['sequelize.sync', () => db.sync({ force: true })],
      ['sequelize.drop', () => db.drop()],
      ['sequelize.truncate', () => db.truncate()],
      ['queryInterface.dropTable', () => qi.dropTable('legacy_jobs')],
      ['queryInterface.dropAllTables', () => qi.dropAllTables()],
      ['queryInterface.createTable', () => qi.createTable('x', { id: DataTypes.INTEGER })],
      ['queryInterface.addColumn', () => qi.addColumn('legacy_jobs', 'x', DataTypes.INTEGER)],
      ['queryInterface.removeColumn', () => qi.removeColumn('legacy_jobs', 'filename')],
      ['queryInterface.changeColumn', () => qi.changeColumn('legacy_jobs', 'filename', DataTypes.INTEGER)],
      ['queryInterface.renameColumn', () => qi.renameColumn('legacy_jobs', 'filename', 'name')],
      ['queryInterface.renameTable', () => qi.renameTable('legacy_jobs', 'old_jobs')],
      ['queryInterface.addIndex', () => qi.addIndex('legacy_jobs', ['status'])],
      ['queryInterface.removeIndex', () => qi.removeIndex('legacy_jobs', 'legacy_jobs_pkey')],
      ['queryInterface.bulkDelete', () => qi.bulkDelete('legacy_jobs', {})],
    ];
    for (const [name, attempt] of attempts) {
      await assert.rejects(attempt, LegacyWriteRefused, `${name} must be refused`);
    }
    assert.equal(await LegacyJob.count(), count, 'no row was deleted');
    const [cols] = await db.query(
      `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'legacy_jobs'`,
    );
    assert.equal((cols[0] as { n: number }).n, 9, 'the table is unchanged');
  });

  it('the app role may SELECT, INSERT and UPDATE but PostgreSQL denies it DELETE, TRUNCATE, DROP and CREATE', async () => {
    const role = `folio_legacy_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(16).toString('hex');
    await grantLegacyRole(ownerUrl, role, password);
    const url = new URL(ownerUrl);
    url.username = role;
    url.password = password;
    const asRole = new Sequelize(url.toString(), { dialect: 'postgres', logging: false });
    try {
      const id = `legacy-role-${randomBytes(4).toString('hex')}`;
      await asRole.query(`INSERT INTO legacy_jobs (job_id, status) VALUES ('${id}', 'queued')`);
      await asRole.query(`UPDATE legacy_jobs SET status = 'completed' WHERE job_id = '${id}'`);
      const [rows] = await asRole.query(`SELECT status FROM legacy_jobs WHERE job_id = '${id}'`);
      assert.deepEqual(rows, [{ status: 'completed' }]);
      const denied = /permission denied|must be owner/;
      await assert.rejects(asRole.query(`DELETE FROM legacy_jobs WHERE job_id = '${id}'`), denied);
      await assert.rejects(asRole.query('TRUNCATE legacy_jobs'), denied);
      await assert.rejects(asRole.query('DROP TABLE legacy_jobs'), denied);
      await assert.rejects(asRole.query('ALTER TABLE legacy_jobs ADD COLUMN x int'), denied);
      await assert.rejects(asRole.query('CREATE TABLE sneaky (id int)'), denied);
    } finally {
      await asRole.close();
    }
  });
});
