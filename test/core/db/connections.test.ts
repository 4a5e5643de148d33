import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionRefusedError, DatabaseError, UniqueConstraintError, ValidationError } from 'sequelize';
import { isDatabaseUnavailable } from '../../../core/db/connections.js';

/** A driver error as pg raises it: a message and, from the server, a SQLSTATE code. */
function pgError(message: string, code?: string): Error & { sql: string; parameters: object } {
  return Object.assign(new Error(message), { code, sql: 'SELECT 1', parameters: {} });
}

describe('isDatabaseUnavailable', () => {
  it('recognises a database that cannot be reached or is going away', () => {
    assert.ok(isDatabaseUnavailable(new ConnectionRefusedError(pgError('connect ECONNREFUSED 127.0.0.1:5432'))));
    const shutdown = pgError('terminating connection due to administrator command', '57P01');
    assert.ok(isDatabaseUnavailable(new DatabaseError(shutdown)));
    assert.ok(isDatabaseUnavailable(new DatabaseError(pgError('the database system is starting up', '57P03'))));
    assert.ok(isDatabaseUnavailable(new DatabaseError(pgError('Connection terminated unexpectedly'))));
  });

  it('leaves query problems and errors from elsewhere alone', () => {
    assert.ok(!isDatabaseUnavailable(new DatabaseError(pgError('syntax error at or near "SELEC"', '42601'))));
    assert.ok(!isDatabaseUnavailable(new UniqueConstraintError({ message: 'duplicate key' })));
    assert.ok(!isDatabaseUnavailable(new ValidationError('bad value', [])));
    // The same words from something that is not the database (an HTTP call, Temporal) are not a DB outage.
    assert.ok(!isDatabaseUnavailable(new Error('connect ECONNREFUSED 127.0.0.1:7233')));
    assert.ok(!isDatabaseUnavailable('ECONNREFUSED'));
  });
});
