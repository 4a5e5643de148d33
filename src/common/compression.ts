import compression from 'compression';
import type { Request, RequestHandler, Response } from 'express';

/**
 * Whether an answer is compressed, decided when its headers are written: JSON and text (compression's own
 * test: a compressible Content-Type, over 1 KiB, no `Cache-Control: no-transform`), but never an event stream
 * (each event must reach the client when it is written, not when a compressor's buffer fills) and never a file
 * download (`Content-Disposition`: the original, the searchable PDF, hOCR/ALTO/TSV) or a resumable upload
 * (tus), which go byte for byte with the Content-Length they declare.
 */
export function shouldCompress(req: Request, res: Response): boolean {
  const type = String(res.getHeader('Content-Type') ?? '');
  if (type.startsWith('text/event-stream')) return false;
  if (res.getHeader('Content-Disposition') !== undefined) return false;
  if (req.originalUrl.startsWith('/v1/uploads')) return false;
  return compression.filter(req, res);
}

/** gzip or br (by the request's Accept-Encoding, br preferred) for the API's JSON and text answers. */
export function responseCompression(): RequestHandler {
  return compression({ filter: shouldCompress, threshold: 1024 });
}
