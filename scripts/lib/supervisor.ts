import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

/** When a crashed process is started again, and when a crash loop is given up on. */
export interface RestartPolicyOptions {
  /** This many crashes within `windowMs` is a crash loop: the process is not started again. */
  maxCrashes: number;
  windowMs: number;
  /** The wait before the first restart; it doubles with each further crash within the window. */
  firstDelayMs: number;
  maxDelayMs: number;
}

/** 1 s, 2 s, 4 s, 8 s between restarts; the fifth crash within a minute ends it. */
export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = {
  maxCrashes: 5,
  windowMs: 60_000,
  firstDelayMs: 1_000,
  maxDelayMs: 30_000,
};

export type RestartDecision =
  { action: 'restart'; delayMs: number; recentCrashes: number } | { action: 'give-up'; recentCrashes: number };

/** Crash by crash: restart after an exponential backoff, or give up once the crashes within the window reach the limit. */
export class RestartPolicy {
  private crashes: number[] = [];

  constructor(readonly options: RestartPolicyOptions = DEFAULT_RESTART_POLICY) {}

  onCrash(now: number): RestartDecision {
    this.crashes = [...this.crashes.filter((t) => now - t < this.options.windowMs), now];
    const recentCrashes = this.crashes.length;
    if (recentCrashes >= this.options.maxCrashes) return { action: 'give-up', recentCrashes };
    const delayMs = Math.min(this.options.firstDelayMs * 2 ** (recentCrashes - 1), this.options.maxDelayMs);
    return { action: 'restart', delayMs, recentCrashes };
  }
}

/** One Folio process to keep running: a Node entry point with its environment. */
export interface SupervisedProcess {
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  /** Whether a line of its stdout says it is up (e.g. the worker's "Worker polling"). */
  isReadyLine(line: string): boolean;
}

export interface SupervisorHooks {
  /** Each line a process writes, as it comes. */
  line(name: string, line: string, stream: 'stdout' | 'stderr'): void;
  /** What the supervisor does: starts, exits, restarts. */
  say(level: 'info' | 'warn', message: string): void;
  /** A process printed its ready line (after every start). */
  ready(name: string): void;
  /** A process crash-looped and will not be started again. */
  gaveUp(name: string, message: string): void;
}

interface Entry {
  spec: SupervisedProcess;
  policy: RestartPolicy;
  logFile: string;
  log: fs.WriteStream;
  child?: ChildProcess;
  closed?: Promise<void>;
  restartTimer?: NodeJS.Timeout;
  /** When it last went down unasked, until it is ready again. */
  downSince?: number;
  /** The first lines of the current run's stderr: where a crash says why. */
  stderrHead: string[];
}

/**
 * Keeps `npm start`'s API and worker running while the rest of the stack stays up: a process that exits
 * unasked is started again after a backoff, and one that crash-loops is given up on (hooks.gaveUp; the
 * caller then stops everything). Every line a process writes goes to hooks.line and to `<logDir>/<name>.log`.
 */
export class Supervisor {
  private readonly entries: Entry[] = [];
  private stopping = false;

  constructor(
    private readonly options: { cwd: string; logDir: string; hooks: SupervisorHooks; policy?: RestartPolicyOptions },
  ) {}

  /** Starts `spec` and keeps it running; its log file starts empty. */
  start(spec: SupervisedProcess): void {
    fs.mkdirSync(this.options.logDir, { recursive: true });
    const logFile = path.join(this.options.logDir, `${spec.name}.log`);
    const entry: Entry = {
      spec,
      policy: new RestartPolicy(this.options.policy),
      logFile,
      log: fs.createWriteStream(logFile),
      stderrHead: [],
    };
    this.entries.push(entry);
    this.spawn(entry);
  }

  private spawn(entry: Entry): void {
    const { name } = entry.spec;
    const { hooks } = this.options;
    const child = spawn(process.execPath, [entry.spec.entry], {
      cwd: this.options.cwd,
      env: entry.spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    entry.child = child;
    entry.stderrHead = [];
    hooks.say('info', `${name} started (pid ${child.pid})`);
    for (const stream of ['stdout', 'stderr'] as const) {
      readline.createInterface({ input: child[stream], crlfDelay: Infinity }).on('line', (line) => {
        entry.log.write(`${line}\n`);
        hooks.line(name, line, stream);
        if (stream === 'stderr') {
          if (entry.stderrHead.length < 5) entry.stderrHead.push(line);
        } else if (entry.spec.isReadyLine(line)) {
          if (entry.downSince !== undefined) {
            const seconds = ((Date.now() - entry.downSince) / 1000).toFixed(1);
            hooks.say('info', `${name} is up again, ${seconds} s after it went down`);
            entry.downSince = undefined;
          }
          hooks.ready(name);
        }
      });
    }
    // 'close' comes after the last line of its output, so a crash report has all of it.
    entry.closed = new Promise((resolve) =>
      child.once('close', (code, signal) => {
        resolve();
        this.onClose(entry, code, signal);
      }),
    );
  }

  private onClose(entry: Entry, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) return;
    const { name } = entry.spec;
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    const decision = entry.policy.onCrash(Date.now());
    const { maxCrashes, windowMs } = entry.policy.options;
    if (decision.action === 'give-up') {
      const why = entry.stderrHead.length ? `\nIts last error output:\n  ${entry.stderrHead.join('\n  ')}` : '';
      this.options.hooks.gaveUp(
        name,
        `${name} crashed ${decision.recentCrashes} times within ${windowMs / 1000} s (last: ${how}); not starting it again. ` +
          `Its output is in ${entry.logFile}.${why}`,
      );
      return;
    }
    entry.downSince ??= Date.now();
    this.options.hooks.say(
      'warn',
      `${name} exited (${how}); restarting it in ${decision.delayMs / 1000} s ` +
        `(crash ${decision.recentCrashes}; ${maxCrashes} crashes within ${windowMs / 1000} s stop npm start)`,
    );
    entry.restartTimer = setTimeout(() => this.spawn(entry), decision.delayMs);
  }

  /** Stops every process (SIGTERM, SIGKILL after `graceMs`) and cancels pending restarts. */
  async stop(graceMs = 30_000): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.entries.map(async (entry) => {
        clearTimeout(entry.restartTimer);
        const child = entry.child;
        if (child && child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await entry.closed;
          clearTimeout(timer);
        }
        await new Promise<void>((resolve) => entry.log.end(resolve));
      }),
    );
  }

  /** Last resort when this process exits without stop(): no process of ours outlives it. */
  killAll(): void {
    for (const entry of this.entries) entry.child?.kill('SIGTERM');
  }
}
