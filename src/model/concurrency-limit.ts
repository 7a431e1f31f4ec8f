/**
 * `maxConcurrency` of a sync API: its calls running or waiting for a worker, at most `max`.
 * A call past it is refused at once (503.1 with Retry-After) rather than queued, so one slow
 * API cannot take every worker nor fill the call queue. One per API and revision: calls of
 * the revision served before a reload are not counted against the new one.
 */
export class ConcurrencyLimit {
  private active = 0;

  constructor(readonly max: number) {}

  /** Takes a place; false when all `max` are taken. Pair a true with `leave`. */
  tryEnter(): boolean {
    if (this.active >= this.max) return false;
    this.active++;
    return true;
  }

  leave(): void {
    this.active--;
  }
}
