/**
 * Scheduled fire times of a cron job, computed with croner in the job's time zone. Pure: no timers,
 * every instant comes from the caller (epoch ms), so the scheduler can inject its own clock.
 *
 * Patterns have 5 fields (minute hour day month weekday) or 6 with leading seconds, read by croner
 * with the same options as `cronExpressionError` in src/manifest/check-manifest.ts, so what the
 * manifest check accepts is exactly what is scheduled.
 *
 * DST follows croner (Vixie cron rules, see croner's README):
 * - Fixed-time jobs (a single value in each of seconds, minutes and hours, e.g. `30 2 * * *`): a
 *   local time inside a spring-forward gap fires once at the first valid instant after the gap,
 *   on the same day (02:30 in a 02:00->03:00 gap fires at 03:00 local, not 03:30); a local time
 *   that occurs twice (fall back) fires once, at its first occurrence.
 * - Interval jobs (wildcard, step, list or range in seconds, minutes or hours, e.g. `0 * * * *`):
 *   times in a gap are skipped; times that occur twice fire on both occurrences, so an hourly job
 *   keeps firing every real hour through the repeated hour.
 */
import { Cron } from 'croner';

/** Fire times of one cron expression in one IANA time zone. All instants are epoch ms. */
export class FireTimes {
  private readonly cron: Cron;

  /**
   * @throws Error when `expression` does not have 5 or 6 fields or croner rejects it, or when
   * `timezone` is empty or unknown.
   */
  constructor(
    readonly expression: string,
    readonly timezone: string,
  ) {
    const fields = expression.trim().split(/\s+/);
    if (fields.length !== 5 && fields.length !== 6) {
      // croner itself would also take 7 fields (with years) and nicknames such as @hourly; the
      // manifest check does not, so neither do we.
      throw new Error(`'${expression}' must have 5 fields (minute hour day month weekday), or 6 with leading seconds`);
    }
    // croner reads an empty time zone as the host's local time; a job always names its zone.
    if (timezone === '') throw new Error('a cron time zone is required (e.g. UTC)');
    // croner only checks the zone when it first converts a date; fail here rather than later.
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    // Same options as cronExpressionError. `paused` and no callback: croner never starts a timer.
    this.cron = new Cron(expression, { paused: true, timezone });
  }

  /** The first fire time strictly after `afterMs` (croner's nextRun drops the milliseconds of its
   * reference but only returns times later than the reference itself), or undefined if none
   * (croner stops searching around year 3000). */
  next(afterMs: number): number | undefined {
    return this.cron.nextRun(toDate(afterMs))?.getTime();
  }

  /**
   * The most recent fire time at or before `atMs`, or undefined if none (croner gives up after
   * searching 400 years back).
   *
   * Uses croner's own backward search, previousRuns, which is efficient for every-second and for
   * sparse (e.g. yearly) patterns alike, and handles DST the same way as nextRun. previousRuns
   * returns runs strictly before its reference (fires are whole seconds, and a reference with
   * milliseconds includes the run at its own whole second), so asking from `atMs + 1` makes it
   * inclusive of a fire exactly at `atMs`.
   */
  latestAtOrBefore(atMs: number): number | undefined {
    return this.cron.previousRuns(1, toDate(atMs + 1))[0]?.getTime();
  }

  /** Fire times in (afterMs, untilMs], earliest first, at most `limit` of them. */
  between(afterMs: number, untilMs: number, limit: number): number[] {
    const times: number[] = [];
    let cursor = afterMs;
    while (times.length < limit) {
      const at = this.next(cursor);
      if (at === undefined || at > untilMs) break;
      times.push(at);
      cursor = at;
    }
    return times;
  }
}

function toDate(ms: number): Date {
  if (!Number.isFinite(ms)) throw new RangeError(`not a finite epoch ms: ${ms}`);
  return new Date(ms);
}
