import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import nodeHttp from 'isomorphic-git/http/node';

/** An isomorphic-git HTTP client that can tell afterwards whether it gave up on a silent server. */
export interface IdleTimeoutHttpClient extends HttpClient {
  /** true once a request was aborted because no data arrived for `idleMs` */
  readonly timedOut: boolean;
}

/**
 * Wrap isomorphic-git's Node client so a request that receives nothing for `idleMs` (no response
 * headers, or a stalled body) is aborted: isomorphic-git itself has no timeout and would wait forever.
 */
export function createIdleTimeoutHttpClient(idleMs: number): IdleTimeoutHttpClient {
  let timedOut = false;

  const request = async (req: GitHttpRequest): Promise<GitHttpResponse> => {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, idleMs);
      // A body nobody reads must not keep the process alive until the timer fires.
      timer.unref();
    };
    const signal = req.signal ? AbortSignal.any([req.signal, controller.signal]) : controller.signal;

    arm();
    let res: GitHttpResponse;
    try {
      res = await nodeHttp.request({ ...req, signal });
    } catch (err) {
      clearTimeout(timer);
      throw err;
    }
    if (!res.body) {
      clearTimeout(timer);
      return res;
    }
    return { ...res, body: rearmOnEachChunk(res.body, arm, () => clearTimeout(timer), controller.signal) };
  };

  return {
    request,
    get timedOut() {
      return timedOut;
    },
  };
}

/** Pass a response body through, restarting the idle timer on every chunk and stopping it at the end. */
async function* rearmOnEachChunk(
  body: AsyncIterableIterator<Uint8Array>,
  arm: () => void,
  disarm: () => void,
  signal: AbortSignal,
): AsyncIterableIterator<Uint8Array> {
  try {
    for await (const chunk of body) {
      arm();
      yield chunk;
    }
    // An aborted Node response may just end: make the truncation visible instead of a short, "valid" body.
    if (signal.aborted) throw Object.assign(new Error('response body timed out'), { code: 'ABORT_ERR' });
  } finally {
    disarm();
  }
}
