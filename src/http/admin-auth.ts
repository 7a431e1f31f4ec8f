import type { IncomingMessage } from 'node:http';
import { matchesSecret, secretDigest } from '../secret-compare.js';
import { ApiError, ApiErrors } from './api-error.js';

/**
 * Checks `Authorization: Bearer <admin token>` (CONTRACT section 8b). Without a configured
 * token every caller is refused (403); a wrong or missing token is 401. The token is compared in
 * constant time (secret-compare.ts).
 */
export function createAdminCheck(adminToken: string | undefined): (req: IncomingMessage) => void {
  const expected = adminToken === undefined || adminToken === '' ? undefined : secretDigest(adminToken);
  return (req) => {
    if (expected === undefined) {
      throw new ApiError(ApiErrors.adminDisabled, 'Admin endpoints are off: no admin token is configured (GITFUNC_ADMIN_TOKEN)');
    }
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
    if (match === null || !matchesSecret(match[1], expected)) {
      throw new ApiError(ApiErrors.authFailed, 'Admin endpoints need Authorization: Bearer <admin token>', {}, {
        'WWW-Authenticate': 'Bearer realm="gitfunc-admin"',
      });
    }
  };
}
