/**
 * A real clamd for the malware-scan tests: the binary scripts/install-clamav.sh unpacked into .tools/clamav,
 * started on a free local TCP port with a generated clamd.conf and a signature database of the test's own
 * (freshclam cannot reach its mirrors here, and the official databases would take far longer to load): one MD5 hash
 * signature (.hdb, `md5:size:name`) of the EICAR test file, the industry's harmless "virus".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/lib/services.js';
import { pingClamd } from '../../core/malware/clamd.js';
import { repoRoot } from './harness.js';

/** The EICAR anti-virus test file (eicar.org): 68 ASCII bytes every scanner reports, harmless by design. */
export const EICAR = Buffer.from(
  'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*',
  'latin1',
);
/** The name the test database gives it; clamd reports hash signatures of a custom database with `.UNOFFICIAL`. */
export const EICAR_SIGNATURE = 'Folio.Test.EICAR';

export const CLAMD_BIN = path.join(repoRoot, '.tools', 'clamav', 'bin', 'clamd');

export interface Clamd {
  url: string;
  port: number;
  /** Milliseconds from spawn to the first PONG. */
  startMs: number;
  /** clamd's resident memory once ready, in bytes. */
  rssBytes: number;
  stop(): Promise<void>;
}

/** Starts clamd with the EICAR-only database (on `port`, else a free one); resolves once it answers PING. */
export async function startClamd(streamMaxBytes: number, port?: number): Promise<Clamd> {
  if (!fs.existsSync(CLAMD_BIN)) {
    throw new Error(`clamd is not installed at ${CLAMD_BIN}: run \`bash scripts/install-clamav.sh\``);
  }
  const dir = fs.mkdtempSync(path.join(process.env.FOLIO_TEST_TMP ?? os.tmpdir(), 'folio-clamd-'));
  const db = path.join(dir, 'db');
  fs.mkdirSync(db);
  const md5 = createHash('md5').update(EICAR).digest('hex');
  fs.writeFileSync(path.join(db, 'folio-test.hdb'), `${md5}:${EICAR.length}:${EICAR_SIGNATURE}\n`);
  port ??= await freePort();
  fs.writeFileSync(
    path.join(dir, 'clamd.conf'),
    [
      'Foreground yes',
      `TCPSocket ${port}`,
      'TCPAddr 127.0.0.1',
      `DatabaseDirectory ${db}`,
      `StreamMaxLength ${streamMaxBytes}`,
      // The test database has no bytecode signatures.
      'Bytecode no',
      '',
    ].join('\n'),
  );
  const started = Date.now();
  const child: ChildProcess = spawn(CLAMD_BIN, ['-c', path.join(dir, 'clamd.conf')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const settings = { address: { host: '127.0.0.1', port }, connectTimeoutMs: 1000, timeoutMs: 5000 };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (;;) {
    if (child.exitCode !== null) throw new Error(`clamd exited at start:\n${output.join('')}`);
    try {
      await pingClamd(settings);
      break;
    } catch {
      if (Date.now() - started > 60_000) {
        await stop();
        throw new Error(`clamd did not answer PING within 60 s:\n${output.join('')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const startMs = Date.now() - started;
  const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const rssBytes = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  return { url: `tcp://127.0.0.1:${port}`, port, startMs, rssBytes, stop };
}
