/** A source of the current time, in epoch ms; injectable for tests. */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };
