/**
 * A server certificate in the shape CPython's `SSLSocket.getpeercert()` returns, as JSON (the
 * script turns lists back into tuples): urllib3 1.26 matches host names on this dict itself.
 */
import type { PeerCertificate } from 'node:tls';

/** OpenSSL's long names, as CPython writes them, for the short ones Node gives. */
const LONG_NAMES: Record<string, string> = {
  C: 'countryName',
  ST: 'stateOrProvinceName',
  L: 'localityName',
  O: 'organizationName',
  OU: 'organizationalUnitName',
  CN: 'commonName',
  emailAddress: 'emailAddress',
  serialNumber: 'serialNumber',
  DC: 'domainComponent',
};

type Name = [string, string][][];

function nameOf(fields: Record<string, string | string[]> | undefined): Name {
  if (fields === undefined) return [];
  const name: Name = [];
  for (const [short, value] of Object.entries(fields)) {
    for (const one of Array.isArray(value) ? value : [value]) name.push([[LONG_NAMES[short] ?? short, one]]);
  }
  return name;
}

/** `DNS:a, IP Address:1.2.3.4` → [['DNS','a'], ['IP Address','1.2.3.4']]. */
function altNamesOf(text: string | undefined): [string, string][] {
  if (text === undefined || text === '') return [];
  return text.split(', ').map((entry) => {
    const colon = entry.indexOf(':');
    return [entry.slice(0, colon), entry.slice(colon + 1)];
  });
}

/** Node's `Dec  6 07:00:00 2026 GMT` is already OpenSSL's (and CPython's) date format. */
export function pythonPeerCertificate(cert: PeerCertificate): Record<string, unknown> {
  const python: Record<string, unknown> = {
    subject: nameOf(cert.subject as unknown as Record<string, string | string[]>),
    issuer: nameOf(cert.issuer as unknown as Record<string, string | string[]>),
    version: 3,
    serialNumber: cert.serialNumber.toUpperCase(),
    notBefore: cert.valid_from,
    notAfter: cert.valid_to,
  };
  const altNames = altNamesOf(cert.subjectaltname);
  if (altNames.length > 0) python.subjectAltName = altNames;
  return python;
}
