/**
 * A network failure as the script's Python should raise it: the exception class CPython would
 * raise (`ConnectionRefusedError`, `TimeoutError`, `PermissionError`, `ssl.SSLError`...), an
 * errno name the script side turns into its own errno number, and CPython's message.
 * Failures travel as answers, not bridge errors: BRIDGE_FAILED stays for the server's own bugs.
 */
export type ScriptErrorType =
  | 'OSError'
  | 'ConnectionRefusedError'
  | 'ConnectionResetError'
  | 'ConnectionAbortedError'
  | 'BrokenPipeError'
  | 'TimeoutError'
  | 'PermissionError'
  | 'gaierror'
  | 'SSLError'
  | 'SSLCertVerificationError';

export interface ScriptError {
  type: ScriptErrorType;
  errno?: string;
  message: string;
}

/** The answer of an op that failed. */
export interface Failed {
  error: ScriptError;
}

export function failed(type: ScriptErrorType, message: string, errno?: string): Failed {
  return { error: { type, message, ...(errno === undefined ? {} : { errno }) } };
}

const BY_ERRNO: Record<string, [ScriptErrorType, string]> = {
  ECONNREFUSED: ['ConnectionRefusedError', 'Connection refused'],
  ECONNRESET: ['ConnectionResetError', 'Connection reset by peer'],
  ECONNABORTED: ['ConnectionAbortedError', 'Software caused connection abort'],
  EPIPE: ['BrokenPipeError', 'Broken pipe'],
  ETIMEDOUT: ['TimeoutError', 'Connection timed out'],
  EHOSTUNREACH: ['OSError', 'No route to host'],
  ENETUNREACH: ['OSError', 'Network is unreachable'],
  EADDRNOTAVAIL: ['OSError', 'Cannot assign requested address'],
};

/** Certificate failures Node reports, as OpenSSL's verify messages CPython quotes. */
const VERIFY_MESSAGES: Record<string, string> = {
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to get local issuer certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  CERT_REVOKED: 'certificate revoked',
  ERR_TLS_CERT_ALTNAME_INVALID: 'Hostname mismatch, certificate is not valid for the host name',
};

/** A socket error of Node's as the script should see it. */
export function socketFailure(error: NodeJS.ErrnoException): Failed {
  const code = error.code ?? '';
  const known = BY_ERRNO[code];
  if (known !== undefined) return failed(known[0], known[1], code);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL') return failed('gaierror', 'Name or service not known', 'EAI_NONAME');
  return failed('OSError', error.message, code.startsWith('E') ? code : undefined);
}

/** A TLS handshake error of Node's: certificate problems as CPython's CERTIFICATE_VERIFY_FAILED. */
export function tlsFailure(error: NodeJS.ErrnoException): Failed {
  const code = error.code ?? '';
  const verify = VERIFY_MESSAGES[code];
  if (verify !== undefined) return failed('SSLCertVerificationError', `[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ${verify}`);
  if (BY_ERRNO[code] !== undefined) return socketFailure(error);
  return failed('SSLError', `[SSL] ${error.message}`);
}
