import type { Revision } from './revision.js';

/**
 * The revision being served, swapped atomically, and the revisions still used by calls in
 * flight. Workers drop every namespace not in `live()`.
 */
export class RevisionHolder {
  private served: Revision | undefined;
  private readonly inUse = new Map<Revision, number>();
  /** Commits being warmed: not served yet, but workers must not drop them. */
  private readonly pinned = new Set<string>();
  private liveIds: string[] = [];
  private readonly listeners: ((revisions: readonly Revision[]) => void)[] = [];

  /** The revision new calls go to, if one is loaded. */
  get current(): Revision | undefined {
    return this.served;
  }

  /** Makes `next` the served revision; calls already running finish on their own. */
  swap(next: Revision): void {
    this.served = next;
    this.updateLive();
  }

  /** Takes the served revision for one call; pair with `release`. */
  acquire(): Revision | undefined {
    const revision = this.served;
    if (revision === undefined) return undefined;
    const count = this.inUse.get(revision) ?? 0;
    this.inUse.set(revision, count + 1);
    return revision;
  }

  /** Keeps `revision`, already taken with `acquire`, in use once more (a run outliving its call's answer); pair with `release`. */
  retain(revision: Revision): void {
    this.inUse.set(revision, (this.inUse.get(revision) ?? 0) + 1);
  }

  release(revision: Revision): void {
    const count = (this.inUse.get(revision) ?? 1) - 1;
    if (count > 0) {
      this.inUse.set(revision, count);
      return;
    }
    this.inUse.delete(revision);
    if (revision !== this.served) this.updateLive();
  }

  /** Keeps `commit` in `live()` while it is warmed, before it is swapped in. */
  pin(commit: string): void {
    this.pinned.add(commit);
    this.updateLive();
  }

  unpin(commit: string): void {
    if (this.pinned.delete(commit)) this.updateLive();
  }

  /** Calls `listener` with the revisions served or running calls whenever that set may have changed. */
  onRevisionsChange(listener: (revisions: readonly Revision[]) => void): void {
    this.listeners.push(listener);
  }

  /** Commit ids that some worker may still need. Same array until the set changes. */
  live(): string[] {
    return this.liveIds;
  }

  private updateLive(): void {
    const ids = new Set<string>();
    if (this.served) ids.add(this.served.commit);
    for (const revision of this.inUse.keys()) ids.add(revision.commit);
    for (const commit of this.pinned) ids.add(commit);
    this.liveIds = [...ids];
    if (this.listeners.length === 0) return;
    const revisions = new Set(this.inUse.keys());
    if (this.served) revisions.add(this.served);
    for (const listener of this.listeners) listener([...revisions]);
  }
}
