import fs from 'node:fs';
import { PDFDocument, StandardFonts } from 'pdf-lib';

/** A PDF made of `times` copies of the first page of an existing one (a scanned page makes a long scan). */
export async function repeatFirstPage(file: string, times: number): Promise<Uint8Array> {
  const source = await PDFDocument.load(fs.readFileSync(file));
  const out = await PDFDocument.create();
  const copies = await out.copyPages(
    source,
    Array.from({ length: times }, () => 0),
  );
  for (const page of copies) out.addPage(page);
  return out.save();
}

/** The text a syntheticTextPdf page carries. */
export function syntheticPageText(n: number, total: number): string {
  return `Folio synthetic page ${n} of ${total}`;
}

/** A born-digital PDF of `total` small pages, each with its own line of text. */
export async function syntheticTextPdf(total: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let n = 1; n <= total; n++) {
    const page = doc.addPage([300, 200]);
    page.drawText(syntheticPageText(n, total), { x: 20, y: 100, size: 12, font });
  }
  return doc.save();
}

/** A PDF made of every page of an existing one, `times` over (a longer real document). */
export async function repeatDocument(file: string, times: number): Promise<Uint8Array> {
  const source = await PDFDocument.load(fs.readFileSync(file));
  const out = await PDFDocument.create();
  const indices = source.getPageIndices();
  for (let i = 0; i < times; i++) {
    for (const page of await out.copyPages(source, indices)) out.addPage(page);
  }
  return out.save();
}
