import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/config.js';
import { createRootLogger, TemporalPinoLogger } from '../../../src/telemetry/logger.js';

/** A logger writing into an array of parsed JSON lines. */
function capture(env: NodeJS.ProcessEnv = {}) {
  const lines: Record<string, unknown>[] = [];
  const logger = createRootLogger(loadConfig(env), 'worker', {
    write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { logger, lines };
}

describe('logger', () => {
  it('writes JSON lines at LOG_LEVEL and above', () => {
    const { logger, lines } = capture({ LOG_LEVEL: 'warn' });
    logger.info('not this');
    logger.warn({ jobId: 'j1' }, 'this');
    assert.deepEqual(
      lines.map((l) => [l.msg, l.level, l.jobId, l.process]),
      [['this', 40, 'j1', 'worker']],
    );
    assert.match(String(lines[0]!.time), /^\d{4}-\d\d-\d\dT/);
  });

  it('redacts credentials in headers and password, key and secret fields', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        req: { headers: { authorization: 'Bearer folio_secret', 'x-api-key': 'folio_key', cookie: 'folio_admin=s' } },
        password: 'p1',
        options: { password: 'p2', ocrMode: 'auto' },
        operator: { email: 'a@b.c', passwordHash: '$2b$…' },
        apiKey: 'k',
      },
      'request',
    );
    const text = JSON.stringify(lines);
    for (const secret of ['folio_secret', 'folio_key', 'folio_admin=s', 'p1', 'p2', '$2b$', '"k"']) {
      assert.ok(!text.includes(secret), `${secret} was logged: ${text}`);
    }
    assert.equal((lines[0]!.options as { ocrMode: string }).ocrMode, 'auto', 'other fields stay');
    assert.equal((lines[0]!.req as { headers: Record<string, string> }).headers.authorization, '[redacted]');
  });

  it("bridges the Temporal runtime's levels and attributes into pino", () => {
    const { logger, lines } = capture({ LOG_LEVEL: 'debug' });
    const temporal = new TemporalPinoLogger(logger);
    temporal.debug('Activity started', { workflowId: 'document-1', pageNumber: 3, [Symbol('t')]: 1n });
    temporal.error('boom');
    temporal.trace('below the level');
    assert.deepEqual(
      lines.map((l) => [l.msg, l.level, l.workflowId, l.pageNumber]),
      [
        ['Activity started', 20, 'document-1', 3],
        ['boom', 50, undefined, undefined],
      ],
    );
  });
});
