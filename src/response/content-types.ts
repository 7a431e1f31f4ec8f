/** Content types by file extension, also DFF's `content_type` shorthands ('json', 'html', ...). */
const BY_EXTENSION: Readonly<Record<string, string>> = {
  json: 'application/json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  text: 'text/plain; charset=utf-8',
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  xml: 'application/xml',
  js: 'text/javascript; charset=utf-8',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  webp: 'image/webp',
  ico: 'image/x-icon',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

export const OCTET_STREAM = 'application/octet-stream';

/** The content type of a file name; octet-stream when the extension is unknown. */
export function contentTypeOfFile(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return (dot < 0 ? undefined : BY_EXTENSION[fileName.slice(dot + 1).toLowerCase()]) ?? OCTET_STREAM;
}

/** A full type (`text/csv`) as given, a shorthand (`csv`) expanded; undefined for an unknown shorthand. */
export function contentTypeOf(given: string): string | undefined {
  return given.includes('/') ? given : BY_EXTENSION[given.toLowerCase()];
}
