import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Where Debian's fonts-nanum puts NanumGothic (Hangul, Latin and Cyrillic): the generated non-Latin test scans use it. */
export const NANUM_GOTHIC = '/usr/share/fonts/truetype/nanum/NanumGothic.ttf';

/**
 * Debian packages some tests need beyond npm: the font the generated Korean and Russian scans are drawn with
 * (test/support/script-pages.ts), poppler's pdftotext that reads the searchable PDF back, the native tesseract
 * CLI whose TSV Folio's is compared with, Debian's docker-compose (1.29) that validates docker-compose.yml
 * without a daemon (test/deploy/compose.test.ts). Each is needed only by the test files that use it (found by `call`
 * in their compiled code).
 */
export const TEST_TOOLS = [
  { pkg: 'fonts-nanum', file: NANUM_GOTHIC, call: 'scanOfLines(' },
  { pkg: 'poppler-utils', file: '/usr/bin/pdftotext', call: "'pdftotext'" },
  { pkg: 'tesseract-ocr', file: '/usr/bin/tesseract', call: "'tesseract'" },
  { pkg: 'docker-compose', file: '/usr/bin/docker-compose', call: "'docker-compose'" },
] as const;

export interface ToolNeed {
  pkg: string;
  file: string;
  neededBy: string[];
}

/** The facts the decision rests on, injectable so that it can be tested without touching the machine. */
export interface ToolProbe {
  isRoot: boolean;
  exists(file: string): boolean;
}

export type ToolPlan =
  { action: 'use' } | { action: 'install'; commands: string[][] } | { action: 'stop'; message: string };

/**
 * What `npm test` does about the packages the selected tests need, as about Chromium: nothing when they are
 * there; apt-get install the missing packages when root on a machine with apt-get (as
 * CI is); otherwise stop at once with the exact command to run.
 */
export function planTools(probe: ToolProbe, needs: ToolNeed[]): ToolPlan {
  const missing = needs.filter((n) => !probe.exists(n.file));
  if (missing.length === 0) return { action: 'use' };
  const pkgs = missing.map((n) => n.pkg);
  const apt = probe.exists('/usr/bin/apt-get');
  if (apt && probe.isRoot) {
    return {
      action: 'install',
      commands: [
        ['apt-get', 'update', '-qq'],
        ['apt-get', 'install', '-y', '-qq', ...pkgs],
      ],
    };
  }
  const lines = missing.map((n) => `  ${n.file} (Debian's ${n.pkg}), needed by ${n.neededBy.join(', ')}`);
  return {
    action: 'stop',
    message:
      `Some selected tests need files that are not installed:\n${lines.join('\n')}\n` +
      (apt ? `Install them:\n  sudo apt-get install -y ${pkgs.join(' ')}` : `Install ${pkgs.join(' ')}.`),
  };
}

/** Which packages the compiled test `files` need, and which files need each (by source path). */
export function toolsNeeded(files: string[], root: string): ToolNeed[] {
  const sources = files.map((f) => ({
    code: fs.readFileSync(f, 'utf8'),
    source: path.relative(path.join(root, 'dist'), f).replace(/\.js$/, '.ts'),
  }));
  return TEST_TOOLS.map((t) => ({
    pkg: t.pkg,
    file: t.file,
    neededBy: sources.filter((s) => s.code.includes(t.call)).map((s) => s.source),
  })).filter((n) => n.neededBy.length > 0);
}

/**
 * Makes sure what the selected tests (compiled `files`) need is there before anything is started for them,
 * installing it where planTools says so; otherwise throws an Error whose message says what to run.
 */
export function ensureTools(files: string[], root: string): void {
  const needs = toolsNeeded(files, root);
  const plan = planTools({ isRoot: process.getuid?.() === 0, exists: fs.existsSync }, needs);
  if (plan.action === 'stop') throw new Error(plan.message);
  if (plan.action === 'install') {
    console.log(
      `installing ${plan.commands.at(-1)!.slice(4).join(' ')} for the tests that need them (running as root)`,
    );
    for (const [cmd, ...args] of plan.commands) {
      execFileSync(cmd!, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    }
    const still = needs.filter((n) => !fs.existsSync(n.file));
    if (still.length > 0) throw new Error(`apt-get ran, but ${still.map((n) => n.file).join(', ')} is missing`);
  }
}
