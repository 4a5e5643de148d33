/**
 * The kinds of document Folio reads, told apart by their first bytes (never by name or declared type): PDFs,
 * and PNG, JPEG, TIFF and WebP images. Pure, so that the API sniffs an upload without importing a decoder,
 * and the worker tells which engine opens a stored file the same way.
 */

/** The image formats accepted as documents: one page per image, one per frame of a multi-page TIFF. */
export const IMAGE_MEDIA_TYPES = ['image/png', 'image/jpeg', 'image/tiff', 'image/webp'] as const;
export type ImageMediaType = (typeof IMAGE_MEDIA_TYPES)[number];

/** Every media type an upload may have, for messages and the OpenAPI document. */
export const ACCEPTED_MEDIA_TYPES = ['application/pdf', ...IMAGE_MEDIA_TYPES] as const;
export type DocumentMediaType = (typeof ACCEPTED_MEDIA_TYPES)[number];

/** How many leading bytes `imageTypeOf` needs. */
export const IMAGE_SIGNATURE_BYTES = 12;

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** Leading bytes of each image format; `null` matches any byte (WebP's RIFF chunk size). */
const SIGNATURES: { type: ImageMediaType; bytes: (number | null)[] }[] = [
  { type: 'image/png', bytes: [0x89, ...ascii('PNG\r\n'), 0x1a, 0x0a] },
  { type: 'image/jpeg', bytes: [0xff, 0xd8, 0xff] },
  // Classic TIFF (42) and BigTIFF (43), little- and big-endian.
  { type: 'image/tiff', bytes: [...ascii('II'), 0x2a, 0x00] },
  { type: 'image/tiff', bytes: [...ascii('MM'), 0x00, 0x2a] },
  { type: 'image/tiff', bytes: [...ascii('II'), 0x2b, 0x00] },
  { type: 'image/tiff', bytes: [...ascii('MM'), 0x00, 0x2b] },
  { type: 'image/webp', bytes: [...ascii('RIFF'), null, null, null, null, ...ascii('WEBP')] },
];

/** The image format a file's first bytes announce, or undefined when they announce none of the accepted ones. */
export function imageTypeOf(head: Uint8Array): ImageMediaType | undefined {
  return SIGNATURES.find((s) => s.bytes.every((b, i) => i < head.length && (b === null || head[i] === b)))?.type;
}

/** A sentence naming what is accepted, for the error a client gets on anything else. */
export function acceptedTypesSentence(): string {
  return 'Upload a PDF, or a PNG, JPEG, TIFF (one page per frame) or WebP image';
}
