import type { ServerResponse } from 'node:http';

/** Counts requests whose response has not ended, so a shutdown can wait for them. */
export class RequestTracker {
  active = 0;
  private onIdle: (() => void) | undefined;

  track(res: ServerResponse): void {
    this.active++;
    res.once('close', () => {
      this.active--;
      if (this.active === 0) this.onIdle?.();
    });
  }

  /** Resolves when no request is in flight, or at `timeoutMs`. */
  idle(timeoutMs: number): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.onIdle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
