import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Where Debian's fonts-nanum puts NanumGothic (Hangul, Latin and Cyrillic): the generated non-Latin test scans use it. */
export const NANUM_GOTHIC = '/usr/share/fonts/truetype/nanum/NanumGothic.ttf';

/** The facts the decision rests on, injectable so that it can be tested without touching the machine. */
export interface FontProbe {
  isRoot: boolean;
  exists(file: string): boolean;
}

export type FontPlan =
  { action: 'use' } | { action: 'install'; commands: string[][] } | { action: 'stop'; message: string };

const APT_INSTALL = [
  ['apt-get', 'update', '-qq'],
  ['apt-get', 'install', '-y', '-qq', 'fonts-nanum'],
];

/**
 * What `npm test` does about the Korean font, as about Chromium (scripts/lib/chromium.ts): use it when it is
 * there; install Debian's fonts-nanum with apt-get when this process is root on a machine with apt-get (as
 * CI is); otherwise stop at once with the exact command to run.
 */
export function planFonts(probe: FontProbe, neededBy: string[]): FontPlan {
  if (probe.exists(NANUM_GOTHIC)) return { action: 'use' };
  const apt = probe.exists('/usr/bin/apt-get');
  if (apt && probe.isRoot) return { action: 'install', commands: APT_INSTALL };
  return {
    action: 'stop',
    message:
      `The generated Korean and Russian scans of ${neededBy.join(', ')} are drawn with NanumGothic, and ${NANUM_GOTHIC} does not exist.\n` +
      (apt
        ? `Install Debian's fonts-nanum:\n  sudo apt-get install -y fonts-nanum`
        : `Install the Nanum fonts (fonts-nanum) so that ${NANUM_GOTHIC} exists.`),
  };
}

/** Which of the compiled test files draw scans with the Korean font (test/support/script-pages.ts), by source path. */
export function testsNeedingFonts(files: string[], root: string): string[] {
  return files
    .filter((f) => fs.readFileSync(f, 'utf8').includes('scanOfLines('))
    .map((f) => path.relative(path.join(root, 'dist'), f).replace(/\.js$/, '.ts'));
}

/**
 * Makes sure the selected tests (compiled `files`) can draw their scans, before anything is started for them:
 * returns when none needs the font or it is there (after installing it where planFonts says so); otherwise
 * throws an Error whose message says what to run.
 */
export function ensureFonts(files: string[], root: string): void {
  const neededBy = testsNeedingFonts(files, root);
  if (neededBy.length === 0) return;
  const plan = planFonts({ isRoot: process.getuid?.() === 0, exists: fs.existsSync }, neededBy);
  if (plan.action === 'stop') throw new Error(plan.message);
  if (plan.action === 'install') {
    console.log(`installing Debian's fonts-nanum for ${neededBy.join(', ')} (running as root)`);
    for (const [cmd, ...args] of plan.commands) {
      execFileSync(cmd!, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    }
    if (!fs.existsSync(NANUM_GOTHIC)) throw new Error(`apt-get installed fonts-nanum, but ${NANUM_GOTHIC} is missing`);
  }
}
