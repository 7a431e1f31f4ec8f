const tails = new Map<string, Promise<void>>();

/**
 * Run `task` after every earlier task queued under the same key has settled (in this process).
 * Fetches into one data directory share a gitdir, and isomorphic-git does not lock it across calls.
 */
export function serialized<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = tails.get(key) ?? Promise.resolve();
  // The tail never rejects, so a failed fetch does not block the ones queued behind it.
  const run = previous.then(task);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
}
