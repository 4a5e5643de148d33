import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Where Debian's `chromium` package puts the browser. */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** The Chromium the admin panel's browser tests drive through playwright-core: CHROMIUM_PATH, else Debian's. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHROMIUM_PATH || DEBIAN_CHROMIUM;
}

/** The facts the decision rests on, injectable so that it can be tested without touching the machine. */
export interface ChromiumProbe {
  env: NodeJS.ProcessEnv;
  isRoot: boolean;
  exists(file: string): boolean;
}

export type ChromiumPlan =
  { action: 'use'; path: string } | { action: 'install'; commands: string[][] } | { action: 'stop'; message: string };

/** The commands .ci/run used: Debian's package, non-interactive. */
const APT_INSTALL = [
  ['apt-get', 'update', '-qq'],
  ['apt-get', 'install', '-y', '-qq', 'chromium'],
];

/**
 * What `npm test` does about Chromium: use it when it is there; install Debian's `chromium` with apt-get
 * when it is missing and this process is root on a machine with apt-get (as CI is); otherwise stop at once
 * with the exact command to run. A CHROMIUM_PATH that points nowhere is a mistake to report, never a reason
 * to install something else.
 */
export function planChromium(probe: ChromiumProbe, neededBy: string[]): ChromiumPlan {
  const wanted = chromiumPath(probe.env);
  if (probe.exists(wanted)) return { action: 'use', path: wanted };
  const tests = `The admin panel's browser tests (${neededBy.join(', ')})`;
  const apt = probe.exists('/usr/bin/apt-get');
  if (probe.env.CHROMIUM_PATH) {
    return {
      action: 'stop',
      message:
        `${tests} drive Chromium through playwright-core, and CHROMIUM_PATH is ${wanted}, which does not exist.\n` +
        `Point CHROMIUM_PATH at a Chromium binary, or unset it to use Debian's (${DEBIAN_CHROMIUM}` +
        `${apt ? `; install it with: ${probe.isRoot ? '' : 'sudo '}apt-get install -y chromium` : ''}).`,
    };
  }
  if (apt && probe.isRoot) return { action: 'install', commands: APT_INSTALL };
  return {
    action: 'stop',
    message:
      `${tests} drive Chromium through playwright-core, and ${DEBIAN_CHROMIUM} does not exist.\n` +
      (apt
        ? `Install Debian's chromium:\n  sudo apt-get install -y chromium\nor set CHROMIUM_PATH to a Chromium binary.`
        : `Install Chromium with this system's package manager and set CHROMIUM_PATH to its binary.`),
  };
}

/** Which of the compiled test files launch Chromium (test/support/panel.ts's launchChromium), by source path. */
export function testsNeedingChromium(files: string[], root: string): string[] {
  return files
    .filter((f) => fs.readFileSync(f, 'utf8').includes('launchChromium('))
    .map((f) => path.relative(path.join(root, 'dist'), f).replace(/\.js$/, '.ts'));
}

/**
 * Makes sure the selected tests (compiled `files`) can launch Chromium, before anything is started for them:
 * returns when none needs it or it is there (after installing it where planChromium says so); otherwise
 * throws an Error whose message says what to run.
 */
export function ensureChromium(files: string[], root: string): void {
  const neededBy = testsNeedingChromium(files, root);
  if (neededBy.length === 0) return;
  const probe: ChromiumProbe = { env: process.env, isRoot: process.getuid?.() === 0, exists: fs.existsSync };
  const plan = planChromium(probe, neededBy);
  if (plan.action === 'stop') throw new Error(plan.message);
  if (plan.action === 'install') {
    console.log(`installing Debian's chromium for ${neededBy.join(', ')} (running as root)`);
    for (const [cmd, ...args] of plan.commands) {
      execFileSync(cmd!, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    }
    if (!fs.existsSync(DEBIAN_CHROMIUM))
      throw new Error(`apt-get installed chromium, but ${DEBIAN_CHROMIUM} is missing`);
  }
}
