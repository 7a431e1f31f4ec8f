import type { EventEmitter } from 'node:events';

/** How a wait for an event ended. */
export type EventOutcome = { happened: true } | { error: NodeJS.ErrnoException } | { timedOut: true };

/**
 * Waits for `event` on `emitter`, its first 'error', or `timeoutMs` (negative: no limit),
 * whichever comes first; removes its listeners either way.
 */
export function firstEvent(emitter: EventEmitter, event: string, timeoutMs: number): Promise<EventOutcome> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const settle = (outcome: EventOutcome): void => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      emitter.off('error', onError);
      resolve(outcome);
    };
    const onEvent = (): void => settle({ happened: true });
    const onError = (error: NodeJS.ErrnoException): void => settle({ error });
    emitter.once(event, onEvent);
    emitter.once('error', onError);
    if (timeoutMs >= 0) timer = setTimeout(() => settle({ timedOut: true }), timeoutMs);
  });
}
