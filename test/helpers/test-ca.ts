/**
 * A certificate authority made for a test with `openssl`, and a server certificate it signed
 * for localhost and 127.0.0.1 (or the names `subjectAltName` gives): what an HTTPS test server
 * presents and GITFUNC_CA_FILE trusts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestCa {
  /** The CA certificate's PEM file (for GITFUNC_CA_FILE). */
  caFile: string;
  caPem: string;
  /** A server certificate for localhost / 127.0.0.1 (or `subjectAltName`) and its key, PEM. */
  cert: string;
  key: string;
  remove(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function makeTestCa(name: string, subjectAltName = 'DNS:localhost,IP:127.0.0.1'): TestCa {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-ca-'));
  const at = (file: string): string => path.join(dir, file);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  openssl('req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=${name} test CA`);
  openssl('req', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(at('san.ext'), `subjectAltName=${subjectAltName}\n`);
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  return {
    caFile: at('ca.pem'),
    caPem: readFileSync(at('ca.pem'), 'utf8'),
    cert: readFileSync(at('server.pem'), 'utf8'),
    key: readFileSync(at('server.key'), 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
