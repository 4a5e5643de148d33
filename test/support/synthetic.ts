import fs from 'node:fs';
import { drawObject, PDFDocument, StandardFonts, type PDFDict } from 'pdf-lib';

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
export async function syntheticTextPdf(total: number, options: { title?: string } = {}): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  // pdf-lib dates the file to the second: two made in one second are the same bytes (one job, by dedupe),
  // unless a title sets them apart.
  if (options.title !== undefined) doc.setTitle(options.title);
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

/**
 * A one-page PDF of ~3 KB that never finishes drawing: each form XObject draws the next one `fanOut` times,
 * `depth` levels down, so the page asks for fanOut^depth fills (10^9 by default) and pdf.js's operator list
 * grows until a time or memory limit stops it. There is no cycle for a reader's cycle check to catch.
 */
export async function formFanOutPdf(fanOut = 10, depth = 9): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const { context } = doc;
  const form = (content: string, resources: PDFDict = context.obj({})) =>
    context.register(
      context.stream(content, { Type: 'XObject', Subtype: 'Form', BBox: [0, 0, 612, 792], Resources: resources }),
    );
  let inner = form('0 0 10 10 re f');
  for (let level = 0; level < depth; level++) {
    inner = form(Array.from({ length: fanOut }, () => '/X Do').join(' '), context.obj({ XObject: { X: inner } }));
  }
  const page = doc.addPage([612, 792]);
  page.pushOperators(drawObject(page.node.newXObject('X', inner)));
  return doc.save();
}
