import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/config.js';
import { createRootLogger, resolveLogFormat, TemporalPinoLogger } from '../../../src/telemetry/logger.js';

/** A logger writing into an array of parsed JSON lines. */
function capture(env: NodeJS.ProcessEnv = {}) {
  const lines: Record<string, unknown>[] = [];
  const logger = createRootLogger(loadConfig(env), 'worker', {
    write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { logger, lines };
}

/** A logger writing into an array of raw lines, whatever their format. */
function captureText(env: NodeJS.ProcessEnv) {
  const lines: string[] = [];
  const logger = createRootLogger(loadConfig(env), 'worker', { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

describe('logger', () => {
  it('chooses LOG_FORMAT: auto is readable on a terminal and JSON elsewhere; pretty and json are kept', () => {
    assert.equal(loadConfig({}).logFormat, 'auto');
    assert.throws(() => loadConfig({ LOG_FORMAT: 'yaml' }), /LOG_FORMAT/);
    const chosen = (['auto', 'pretty', 'json'] as const).flatMap((setting) =>
      [true, false].map(
        (terminal) => `${setting}/${terminal ? 'tty' : 'pipe'}: ${resolveLogFormat(setting, terminal)}`,
      ),
    );
    assert.deepEqual(chosen, [
      'auto/tty: pretty',
      'auto/pipe: json',
      'pretty/tty: pretty',
      'pretty/pipe: pretty',
      'json/tty: json',
      'json/pipe: json',
    ]);
  });

  it('LOG_FORMAT=pretty writes one readable line per entry, secrets still redacted', () => {
    const { logger, lines } = captureText({ LOG_FORMAT: 'pretty' });
    logger.warn({ jobId: 'j1', password: 'hunter2' }, 'page failed');
    logger.error({ err: new Error('engine crashed') }, 'page error');
    assert.equal(lines.length, 2);
    assert.match(
      lines[0]!,
      /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: \[worker\] page failed \{"jobId":"j1","password":"\[redacted\]"\}\n$/,
    );
    assert.ok(!lines.join('').includes('hunter2'));
    assert.match(lines[1]!, /ERROR: \[worker\] page error/);
    assert.match(lines[1]!, /Error: engine crashed\n\s+at /, 'an error keeps its stack');
    assert.throws(() => JSON.parse(lines[0]!), SyntaxError, 'not JSON');
  });

  it('LOG_FORMAT=json writes JSON lines, even where auto would choose pretty', () => {
    const { logger, lines } = captureText({ LOG_FORMAT: 'json' });
    logger.info({ jobId: 'j2' }, 'page read');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l) as Record<string, unknown>).map((l) => [l.msg, l.jobId, l.process]),
      [['page read', 'j2', 'worker']],
    );
  });

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
