import { extname } from 'node:path';
import mime from 'mime-types';

export const OCTET_STREAM = 'application/octet-stream';

/** The content type of a file name (from mime-db, with its charset); octet-stream when the extension is unknown. */
export function contentTypeOfFile(fileName: string): string {
  // extname, not mime-types' own lookup: that would read a bare name such as `csv` as an extension.
  const extension = extname(fileName);
  return (extension !== '' && mime.contentType(extension)) || OCTET_STREAM;
}

/** DFF's `content_type`: a full type (`text/csv`) as given, a shorthand (`csv`) expanded; undefined for an unknown shorthand. */
export function contentTypeOf(given: string): string | undefined {
  return given.includes('/') ? given : mime.contentType(given) || undefined;
}
