/**
 * TLS on a connection a script opened (its `ssl.wrap_socket`): Node's `tls` takes over the raw
 * socket, verifies as the script's SSLContext asks, and reports what `SSLSocket` answers.
 */
import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type SecureContext } from 'node:tls';
import { firstEvent } from './first-event.js';
import type { HostConnection } from './host-connection.js';
import { pythonPeerCertificate } from './peer-certificate.js';
import { type Failed, failed, tlsFailure } from './script-error.js';

/** What the script's SSLContext and wrap_socket asked for. */
export interface TlsRequest {
  serverHostname?: string;
  /** verify_mode is not CERT_NONE. */
  verify: boolean;
  checkHostname: boolean;
  alpn: string[];
  /** The socket's timeout; negative: none. */
  timeoutMs: number;
  /** The trust (and client certificate) to use; throws when the loaded certificates are unusable. */
  secureContext(): SecureContext;
}

/** Runs the handshake; answers the version, cipher, ALPN protocol and certificate, or a failure. */
export async function upgradeToTls(connection: HostConnection, request: TlsRequest): Promise<Record<string, unknown> | Failed> {
  const { serverHostname, verify, checkHostname, alpn } = request;
  let secureContext: SecureContext;
  try {
    secureContext = request.secureContext();
  } catch (error) {
    return failed('SSLError', `[SSL] cannot use the loaded certificates: ${(error as Error).message}`);
  }
  const tls = tlsConnect({
    socket: connection.socket as Socket,
    secureContext,
    rejectUnauthorized: verify,
    // IP addresses are not sent as SNI (RFC 6066); they are still checked against the certificate.
    ...(serverHostname !== undefined && isIP(serverHostname) === 0 ? { servername: serverHostname } : {}),
    ...(alpn.length > 0 ? { ALPNProtocols: alpn } : {}),
    // Without check_hostname, the chain is verified but not the name (CPython's semantics).
    ...(checkHostname && serverHostname !== undefined ? { host: serverHostname } : { checkServerIdentity: () => undefined }),
  });
  connection.upgrade(tls);
  const outcome = await firstEvent(tls, 'secureConnect', request.timeoutMs);
  if (!('happened' in outcome)) {
    connection.close();
    return 'error' in outcome ? tlsFailure(outcome.error) : failed('TimeoutError', '_ssl.c:1011: The handshake operation timed out');
  }
  const cert = tls.getPeerCertificate();
  const cipher = tls.getCipher();
  return {
    version: tls.getProtocol(),
    cipher: [cipher.standardName, cipher.version, 0],
    alpn: tls.alpnProtocol === false ? null : tls.alpnProtocol,
    // CPython answers {} for an unverified certificate; the DER form is always there.
    cert: verify && cert.raw !== undefined ? pythonPeerCertificate(cert) : {},
    der: cert.raw === undefined ? null : cert.raw.toString('base64'),
  };
}
