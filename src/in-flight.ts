/** Counts work in progress (requests, async tasks, cron runs) so a shutdown can wait for it. */
export class InFlight {
  private count = 0;
  private readonly waiters = new Set<() => void>();

  get active(): number {
    return this.count;
  }

  enter(): void {
    this.count++;
  }

  leave(): void {
    this.count--;
    if (this.count > 0) return;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** Resolves when nothing is in progress, or at `timeoutMs`, whichever comes first. */
  idle(timeoutMs: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.waiters.add(wake);
    });
  }
}
