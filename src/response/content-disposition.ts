/** RFC 6266 `Content-Disposition` for a download: an ASCII fallback name plus `filename*` for the rest. */
export function attachmentDisposition(fileName: string): string {
  // The fallback keeps printable ASCII without quotes or backslashes; RFC 8187 carries the exact name.
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const exact = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return fallback === fileName ? `attachment; filename="${fileName}"` : `attachment; filename="${fallback}"; filename*=UTF-8''${exact}`;
}

/** The last path component of a name a script gave, so a download name never carries a path. */
export function downloadName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  return base === '' || base === '.' || base === '..' ? 'download' : base;
}
