// Talking to gitfunc's admin API with the token the user signed in with.

const TOKEN_KEY = 'gitfunc.adminToken';

/** The admin token of this tab (sessionStorage: gone when the tab closes). */
export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string): void => sessionStorage.setItem(TOKEN_KEY, value),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** What one request to an admin endpoint came to. */
export type Answer<T> =
  | { state: 'ok'; data: T }
  /** 404 on the route itself: this server has no such endpoint (an older version). */
  | { state: 'unavailable' }
  /** 401/403: the token is wrong, or the server has none configured. */
  | { state: 'unauthorized'; message: string }
  | { state: 'error'; message: string };

interface DffBody {
  ok?: boolean;
  message?: string;
  data?: unknown;
  reason?: string;
}

/** Sends `path` with the admin token (or `withToken`) and reads gitfunc's `{ok, message, data}` body. */
export async function adminRequest<T>(path: string, init: { method?: string; body?: unknown; withToken?: string } = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { authorization: `Bearer ${init.withToken ?? token.get() ?? ''}` };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? null : JSON.stringify(init.body),
      cache: 'no-store',
    });
  } catch (error) {
    return { state: 'error', message: `The server does not answer (${String(error)})` };
  }
  let body: DffBody = {};
  try {
    body = (await res.json()) as DffBody;
  } catch {
    // not JSON: the status says enough
  }
  if (res.ok) return { state: 'ok', data: body.data as T };
  if (res.status === 401 || res.status === 403) return { state: 'unauthorized', message: body.message ?? `HTTP ${res.status}` };
  // A 404 of an unknown route names the route; a 404 of a known one (no such task) does not.
  if (res.status === 404 && /^No route /.test(body.message ?? '')) return { state: 'unavailable' };
  return { state: 'error', message: body.message ?? `HTTP ${res.status}` };
}
