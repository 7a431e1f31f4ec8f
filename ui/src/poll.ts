import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { adminRequest, type Answer } from './api.js';

/** How often an open view asks again. */
export const POLL_MS = 2000;

export interface Polled<T> {
  /** Undefined until the first answer. */
  answer: Answer<T> | undefined;
  /** Ask again now (after an action changed what the view shows). */
  refresh(): void;
}

/**
 * GET `path` now and every POLL_MS while the view is mounted (not while the tab is hidden),
 * keeping the last answer; a new `path` starts over.
 */
export function usePoll<T>(path: string | null, onUnauthorized: (message: string) => void): Polled<T> {
  // Kept with the path it answers, so a view never shows one path's answer for another.
  const [last, setLast] = useState<{ path: string; answer: Answer<T> } | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;

  useEffect(() => {
    if (path === null) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = async (): Promise<void> => {
      if (!document.hidden) {
        const next = await adminRequest<T>(path);
        if (stopped) return;
        if (next.state === 'unauthorized') {
          unauthorized.current(next.message);
          return;
        }
        setLast({ path, answer: next });
      }
      if (!stopped) timer = setTimeout(() => void ask(), POLL_MS);
    };
    void ask();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [path, tick]);

  const refresh = useCallback(() => setTick((value) => value + 1), []);
  return { answer: last !== undefined && last.path === path ? last.answer : undefined, refresh };
}
