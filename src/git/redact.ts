/** Remove userinfo (`https://user:pass@host`) from a URL so it can appear in messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    // Not a parseable URL (e.g. a local path): strip anything that looks like userinfo all the same.
    return url.replace(/\/\/[^/@\s]*@/g, '//');
  }
}

/** Replace every secret (token, URL password) in free text coming from a library or server. */
export function scrubSecrets(text: string, secrets: Array<string | undefined>): string {
  let out = text.replace(/(\w+:\/\/)[^/@\s]*@/g, '$1');
  for (const secret of secrets) {
    if (secret) out = out.split(secret).join('***');
  }
  return out;
}

/** The password embedded in a URL's userinfo, if any: it must be scrubbed like a token. */
export function urlPassword(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.password ? decodeURIComponent(parsed.password) : undefined;
  } catch {
    return undefined;
  }
}
