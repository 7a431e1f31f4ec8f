/**
 * The CA certificates scripts' TLS trusts by default: the host's CA store (Node's bundled roots)
 * plus the operator's `GITFUNC_CA_FILE`. Workers see it as a file at Debian's path, where
 * `ssl.get_default_verify_paths()` and Debian's certifi look; the server verifies against it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { GitfuncError } from '../errors.js';

/** Where a worker's Python finds the bundle. */
export const CA_BUNDLE_PATH = '/etc/ssl/certs/ca-certificates.crt';

export interface CaBundle {
  pem: string;
  /** Hex sha256 of `pem`: how a script names this bundle to the server. */
  sha256: string;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Reads the operator's CA file (CONFIG_INVALID when unreadable or without a certificate). */
export function hostCaBundle(caFile: string | undefined): CaBundle {
  let operatorCa = '';
  if (caFile !== undefined) {
    try {
      operatorCa = readFileSync(caFile, 'utf8');
    } catch (error) {
      throw new GitfuncError('CONFIG_INVALID', `cannot read GITFUNC_CA_FILE ${caFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { caFile });
    }
    if (!operatorCa.includes('-----BEGIN CERTIFICATE-----')) throw new GitfuncError('CONFIG_INVALID', `GITFUNC_CA_FILE ${caFile} holds no PEM certificate`, { caFile });
  }
  const pem = [...rootCertificates, operatorCa].join('\n');
  return { pem, sha256: sha256Hex(pem) };
}
