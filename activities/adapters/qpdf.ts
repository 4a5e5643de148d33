/**
 * qpdf, run as a child process: lays the pages of a text layer over pages of the original document. qpdf
 * reads the original object by object and writes the result as it goes, so neither it nor this process ever
 * holds a whole document. It copies every encoded stream (the scans' images above all) byte for byte, never
 * decoding or re-encoding one (`--decode-level=none`); draws each target page's original content, unchanged,
 * as a form XObject under the layer's; places each layer page in its target page's box, undoing the target's
 * /Rotate; and keeps the original's encryption (same passwords and permissions). The binary is Debian's qpdf, unpacked into .tools/qpdf by scripts/install-qpdf.sh.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { InputError } from './types.js';

export interface OverlayRequest {
  /** The original document. */
  original: string;
  password?: string;
  /** A PDF whose n-th page goes over the n-th page of `onto`. */
  layer: string;
  /** Original page numbers, ascending. */
  onto: number[];
  output: string;
  /** A folder for qpdf's argument and password files, private to this build. */
  workDir: string;
  signal?: AbortSignal;
}

/** Runs qpdf's overlay. A document qpdf cannot open or write is an InputError (SEARCHABLE_PDF_FAILED). */
export async function overlayTextLayer(qpdf: string, request: OverlayRequest): Promise<void> {
  const { original, password, layer, onto, output, workDir, signal } = request;
  // Encoded streams (images, compressed content) are copied as they are, never decoded or re-encoded;
  // unencoded ones are compressed — among them the text layer, which qpdf's overlay re-writes unencoded.
  const args = ['--decode-level=none', '--compress-streams=y', '--warning-exit-0', '--no-original-object-ids'];
  if (password !== undefined) {
    // In a file, not on the command line, where any process could read it.
    const file = path.join(workDir, 'password');
    await fs.writeFile(file, password, { mode: 0o600 });
    args.push(`--password-file=${file}`);
  }
  args.push('--', original, '--overlay', layer, `--to=${pageRanges(onto)}`, `--from=1-${onto.length}`, '--', output);
  // The page list of a long document is long: qpdf reads its arguments from a file.
  const argFile = path.join(workDir, 'arguments');
  await fs.writeFile(argFile, args.join('\n') + '\n', { mode: 0o600 });
  const { code, stderr } = await run(qpdf, [`@${argFile}`], signal);
  if (code === 0) return;
  const detail = stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500);
  if (/invalid password/i.test(stderr)) {
    throw new InputError(
      'SEARCHABLE_PDF_FAILED',
      `qpdf could not open the document with the password it was read with (${detail}); the searchable PDF was not built.`,
    );
  }
  throw new InputError('SEARCHABLE_PDF_FAILED', `qpdf could not build the searchable PDF: ${detail}`);
}

/** Ascending page numbers as qpdf's page ranges: 1,2,3,5 → 1-3,5. */
export function pageRanges(pages: number[]): string {
  const ranges: string[] = [];
  for (let i = 0; i < pages.length;) {
    let j = i;
    while (j + 1 < pages.length && pages[j + 1] === pages[j]! + 1) j++;
    ranges.push(i === j ? `${pages[i]}` : `${pages[i]}-${pages[j]}`);
    i = j + 1;
  }
  return ranges.join(',');
}

/** Runs a command to its end; the last 4 KB of its error output are kept. */
function run(command: string, args: string[], signal?: AbortSignal): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], signal });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4096);
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(new Error(`qpdf not found at ${command}: run bash scripts/install-qpdf.sh, or set QPDF_PATH`));
      } else reject(err);
    });
    child.once('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}
