import t from 'tap';
import { FireTimes } from '../src/schedule/fire-times.js';
import { systemClock } from '../src/model/clock.js';

/** Epoch ms of an ISO instant (always written with Z, so tests do not depend on the host zone). */
const ms = (iso: string): number => {
  const value = Date.parse(iso);
  if (Number.isNaN(value)) throw new Error(`bad instant ${iso}`);
  return value;
};
const iso = (value: number | undefined): string | undefined => (value === undefined ? undefined : new Date(value).toISOString());
const isoList = (values: number[]): string[] => values.map((v) => new Date(v).toISOString());

/** Wall-clock time and UTC offset of `value` in `timeZone`, e.g. `2026-10-25 02:00 GMT+2`. */
function local(value: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'shortOffset',
  }).formatToParts(new Date(value));
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '?';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')} ${part('timeZoneName')}`;
}

t.test('systemClock reads the real time', async (t) => {
  const before = Date.now();
  const now = systemClock.now();
  t.ok(now >= before && now <= Date.now());
});

t.test('constructor rejects what the manifest check rejects', async (t) => {
  t.throws(() => new FireTimes('0 0 0 1 1 * 2030', 'UTC'), /5 fields/, '7 fields (croner would take years)');
  t.throws(() => new FireTimes('@hourly', 'UTC'), /5 fields/, 'nicknames');
  t.throws(() => new FireTimes('* * * *', 'UTC'), /5 fields/);
  t.throws(() => new FireTimes('61 * * * *', 'UTC'), 'croner rejects the pattern');
  t.throws(() => new FireTimes('0 * * * *', 'Mars/Olympus_Mons'), RangeError, 'unknown zone');
  t.throws(() => new FireTimes('0 * * * *', ''), /time zone is required/, 'empty zone would mean host local time');
  t.throws(() => new FireTimes('* * * * * *', 'UTC').next(Number.NaN), RangeError);
  const ft = new FireTimes('  0  *  * * * ', 'UTC');
  t.equal(ft.expression, '  0  *  * * * ');
  t.equal(ft.timezone, 'UTC');
  t.equal(iso(ft.next(ms('2026-01-01T00:00:00Z'))), '2026-01-01T01:00:00.000Z');
});

t.test('UTC every second', async (t) => {
  const ft = new FireTimes('* * * * * *', 'UTC');
  const X = ms('2026-05-01T12:00:00Z');

  t.test('on a second boundary', async (t) => {
    t.equal(ft.next(X), X + 1000, 'strictly after');
    t.equal(ft.latestAtOrBefore(X), X, 'inclusive');
    t.equal(ft.next(X - 1), X);
    t.equal(ft.latestAtOrBefore(X - 1), X - 1000);
  });

  t.test('999 ms past a boundary (timer ran late)', async (t) => {
    t.equal(ft.next(X + 999), X + 1000);
    t.equal(ft.latestAtOrBefore(X + 999), X);
    t.equal(ft.next(X + 1), X + 1000);
    t.equal(ft.latestAtOrBefore(X + 1), X);
  });

  t.test('between is (after, until], capped by limit', async (t) => {
    t.same(ft.between(X, X + 3000, 10), [X + 1000, X + 2000, X + 3000]);
    t.same(ft.between(X - 1, X + 2999, 10), [X, X + 1000, X + 2000]);
    t.same(ft.between(X + 999, X + 3000, 2), [X + 1000, X + 2000]);
    t.same(ft.between(X, X + 999, 10), []);
    t.same(ft.between(X, X, 10), []);
    t.same(ft.between(X - 1000, X, 10), [X]);
    t.same(ft.between(X, X + 5000, 0), []);
    t.same(ft.between(X + 5000, X, 10), [], 'empty range');
  });
});

t.test('Europe/Berlin daily 30 2 * * * (a fixed-time job)', async (t) => {
  const tz = 'Europe/Berlin';
  const ft = new FireTimes('30 2 * * *', tz);

  t.test('spring forward 2026-03-29: 02:30 does not exist', async (t) => {
    // croner (Vixie cron rules, see its README "DST handling"): a fixed-time job whose local time
    // falls in the gap runs once at the first valid time after the gap, on the same day. Clocks
    // jump from 02:00 CET to 03:00 CEST, so the run is at 03:00 CEST = 01:00Z (not 03:30, not
    // skipped).
    const fires = ft.between(ms('2026-03-27T12:00:00Z'), ms('2026-03-30T12:00:00Z'), 10);
    t.same(isoList(fires), [
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST, first instant after the gap
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
    t.same(
      fires.map((f) => local(f, tz)),
      ['2026-03-28 02:30 GMT+1', '2026-03-29 03:00 GMT+2', '2026-03-30 02:30 GMT+2'],
    );
    const gapFire = ms('2026-03-29T01:00:00Z');
    t.equal(ft.latestAtOrBefore(gapFire), gapFire);
    t.equal(ft.latestAtOrBefore(gapFire + 5), gapFire, 'a late timer still finds the gap fire');
    t.equal(iso(ft.latestAtOrBefore(gapFire - 1)), '2026-03-28T01:30:00.000Z');
    t.equal(iso(ft.latestAtOrBefore(ms('2026-03-29T01:30:00Z'))), '2026-03-29T01:00:00.000Z', 'no fire at 03:30');
  });

  t.test('fall back 2026-10-25: 02:30 happens twice, the job fires once', async (t) => {
    // 02:30 CEST = 00:30Z and 02:30 CET = 01:30Z. croner runs a fixed-time job once, at the first
    // occurrence.
    const fires = ft.between(ms('2026-10-24T12:00:00Z'), ms('2026-10-26T12:00:00Z'), 10);
    t.same(isoList(fires), ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
    t.same(fires.map((f) => local(f, tz)), ['2026-10-25 02:30 GMT+2', '2026-10-26 02:30 GMT+1']);
    const onTheDay = ft.between(ms('2026-10-24T22:00:00Z'), ms('2026-10-25T23:00:00Z'), 10);
    t.equal(onTheDay.length, 1, 'once on 2026-10-25 local');
    // The second 02:30 is not a fire: at it, the latest fire is still the first one.
    t.equal(iso(ft.latestAtOrBefore(ms('2026-10-25T01:30:00Z'))), '2026-10-25T00:30:00.000Z');
    t.equal(iso(ft.latestAtOrBefore(ms('2026-10-25T01:45:00Z'))), '2026-10-25T00:30:00.000Z');
    t.equal(iso(ft.next(ms('2026-10-25T00:30:00Z'))), '2026-10-26T01:30:00.000Z');
  });
});

t.test('Europe/Berlin hourly 0 * * * * (an interval job)', async (t) => {
  const tz = 'Europe/Berlin';
  const ft = new FireTimes('0 * * * *', tz);

  t.test('across the fall-back night: the repeated hour fires twice', async (t) => {
    // croner runs interval jobs on both occurrences of a repeated time, so the job fires every real
    // hour: 02:00 CEST and 02:00 CET are both fires, one UTC hour apart.
    const fires = ft.between(ms('2026-10-24T22:00:00Z'), ms('2026-10-25T04:00:00Z'), 100);
    t.same(isoList(fires), [
      '2026-10-24T23:00:00.000Z',
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T02:00:00.000Z',
      '2026-10-25T03:00:00.000Z',
      '2026-10-25T04:00:00.000Z',
    ]);
    t.same(
      fires.map((f) => local(f, tz)),
      [
        '2026-10-25 01:00 GMT+2',
        '2026-10-25 02:00 GMT+2',
        '2026-10-25 02:00 GMT+1',
        '2026-10-25 03:00 GMT+1',
        '2026-10-25 04:00 GMT+1',
        '2026-10-25 05:00 GMT+1',
      ],
    );
    t.equal(iso(ft.latestAtOrBefore(ms('2026-10-25T01:59:59.999Z'))), '2026-10-25T01:00:00.000Z');
    t.equal(iso(ft.latestAtOrBefore(ms('2026-10-25T00:59:59.999Z'))), '2026-10-25T00:00:00.000Z');
  });

  t.test('across the spring-forward night: the missing hour is skipped', async (t) => {
    const fires = ft.between(ms('2026-03-28T23:00:00Z'), ms('2026-03-29T02:00:00Z'), 100);
    t.same(isoList(fires), ['2026-03-29T00:00:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z']);
    t.same(
      fires.map((f) => local(f, tz)),
      ['2026-03-29 01:00 GMT+1', '2026-03-29 03:00 GMT+2', '2026-03-29 04:00 GMT+2'],
    );
  });
});

t.test('America/New_York daily 30 2 * * *', async (t) => {
  const tz = 'America/New_York';
  const ft = new FireTimes('30 2 * * *', tz);

  t.test('spring forward 2026-03-08 (02:00 EST -> 03:00 EDT)', async (t) => {
    const fires = ft.between(ms('2026-03-07T00:00:00Z'), ms('2026-03-10T00:00:00Z'), 10);
    t.same(isoList(fires), ['2026-03-07T07:30:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']);
    t.same(
      fires.map((f) => local(f, tz)),
      ['2026-03-07 02:30 GMT-5', '2026-03-08 03:00 GMT-4', '2026-03-09 02:30 GMT-4'],
    );
  });

  t.test('fall back 2026-11-01 (02:00 EDT -> 01:00 EST): 02:30 occurs once', async (t) => {
    const fires = ft.between(ms('2026-10-31T00:00:00Z'), ms('2026-11-03T00:00:00Z'), 10);
    t.same(isoList(fires), ['2026-10-31T06:30:00.000Z', '2026-11-01T07:30:00.000Z', '2026-11-02T07:30:00.000Z']);
    t.same(
      fires.map((f) => local(f, tz)),
      ['2026-10-31 02:30 GMT-4', '2026-11-01 02:30 GMT-5', '2026-11-02 02:30 GMT-5'],
    );
  });

  t.test('01:30, which repeats on 2026-11-01, fires once, at the first occurrence', async (t) => {
    const early = new FireTimes('30 1 * * *', tz);
    const fires = early.between(ms('2026-11-01T00:00:00Z'), ms('2026-11-02T00:00:00Z'), 10);
    t.same(isoList(fires), ['2026-11-01T05:30:00.000Z']);
    t.equal(local(fires[0]!, tz), '2026-11-01 01:30 GMT-4');
  });
});

t.test('yearly 0 0 1 1 *: latestAtOrBefore from mid-year', async (t) => {
  const berlin = new FireTimes('0 0 1 1 *', 'Europe/Berlin');
  const newYear = ms('2025-12-31T23:00:00Z'); // 2026-01-01 00:00 CET
  t.equal(local(newYear, 'Europe/Berlin'), '2026-01-01 00:00 GMT+1');
  t.equal(berlin.latestAtOrBefore(ms('2026-07-15T10:20:30.456Z')), newYear);
  t.equal(berlin.latestAtOrBefore(newYear), newYear);
  t.equal(iso(berlin.latestAtOrBefore(newYear - 1)), '2024-12-31T23:00:00.000Z');
  t.equal(iso(berlin.next(ms('2026-07-15T10:20:30Z'))), '2026-12-31T23:00:00.000Z');

  const utc = new FireTimes('0 0 1 1 *', 'UTC');
  t.equal(iso(utc.latestAtOrBefore(ms('2026-07-15T10:20:30Z'))), '2026-01-01T00:00:00.000Z');

  const leapDay = new FireTimes('0 0 29 2 *', 'UTC');
  t.equal(iso(leapDay.latestAtOrBefore(ms('2099-06-01T00:00:00Z'))), '2096-02-29T00:00:00.000Z', '2100 is no leap year');

  const never = new FireTimes('0 0 30 2 *', 'UTC');
  t.equal(never.next(ms('2026-01-01T00:00:00Z')), undefined, 'February 30 never comes');
  t.equal(never.latestAtOrBefore(ms('2026-01-01T00:00:00Z')), undefined);
  t.same(never.between(0, ms('2030-01-01T00:00:00Z'), 10), []);
});

t.test('next and latestAtOrBefore agree at random instants', async (t) => {
  // Deterministic pseudo-random instants (mulberry32), so a failure can be reproduced.
  let seed = 0x5eed;
  const random = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let r = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
  const cases: [expression: string, timezone: string, fromIso: string][] = [
    ['* * * * * *', 'UTC', '2026-05-01T00:00:00Z'],
    ['*/7 * * * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z'],
    ['0 * * * *', 'Europe/Berlin', '2026-10-24T00:00:00Z'],
    ['0 * * * *', 'Europe/Berlin', '2026-03-28T00:00:00Z'],
    ['*/15 1-3 * * *', 'Europe/Berlin', '2026-10-24T00:00:00Z'],
    ['*/15 1-3 * * *', 'Europe/Berlin', '2026-03-28T00:00:00Z'],
    ['30 2 * * *', 'Europe/Berlin', '2026-10-23T00:00:00Z'],
    ['30 2 * * *', 'Europe/Berlin', '2026-03-27T00:00:00Z'],
    ['30 1 * * *', 'America/New_York', '2026-10-30T00:00:00Z'],
    ['30 2 * * *', 'America/New_York', '2026-03-06T00:00:00Z'],
    ['0 0 1 1 *', 'Europe/Berlin', '2025-12-30T00:00:00Z'],
  ];
  const span = 4 * 24 * 3600_000;
  for (const [expression, timezone, fromIso] of cases) {
    const ft = new FireTimes(expression, timezone);
    const from = ms(fromIso);
    let failures = 0;
    for (let i = 0; i < 200 && failures < 3; i++) {
      // Alternately a whole second, and a whole second plus 1-999 ms.
      const second = from + Math.floor((random() * span) / 1000) * 1000;
      const x = i % 2 === 0 ? second : second + 1 + Math.floor(random() * 999);
      const n = ft.next(x);
      const p = ft.latestAtOrBefore(x);
      const ok =
        n !== undefined &&
        p !== undefined &&
        n > x &&
        p <= x &&
        n % 1000 === 0 &&
        p % 1000 === 0 &&
        ft.latestAtOrBefore(n) === n &&
        ft.latestAtOrBefore(n - 1) === p &&
        ft.next(p) === n &&
        ft.next(n - 1) === n &&
        ft.between(p - 1, n, 3).join() === [p, n].join();
      if (!ok) {
        failures++;
        t.fail(`${expression} ${timezone} at ${iso(x)}: next ${iso(n)}, latestAtOrBefore ${iso(p)}`);
      }
    }
    if (failures === 0) t.pass(`${expression} ${timezone} from ${fromIso}`);
  }
});

t.test('between matches stepping with next through both DST nights', async (t) => {
  for (const [expression, timezone] of [
    ['*/10 * * * *', 'Europe/Berlin'],
    ['30 2 * * *', 'Europe/Berlin'],
    ['0 30 1 * * *', 'America/New_York'],
  ] as const) {
    const ft = new FireTimes(expression, timezone);
    for (const [fromIso, untilIso] of [
      ['2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z'],
      ['2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z'],
      ['2026-10-31T00:00:00Z', '2026-11-02T12:00:00Z'],
    ] as const) {
      const until = ms(untilIso);
      const stepped: number[] = [];
      for (let x = ft.next(ms(fromIso)); x !== undefined && x <= until; x = ft.next(x)) stepped.push(x);
      const listed = ft.between(ms(fromIso), until, 10_000);
      t.same(listed, stepped, `${expression} ${timezone} ${fromIso}`);
      t.ok(
        listed.every((v, i) => i === 0 || v > listed[i - 1]!),
        'strictly increasing',
      );
      // Walking backwards with latestAtOrBefore visits the same fires.
      const back: number[] = [];
      for (let x = ft.latestAtOrBefore(until); x !== undefined && x > ms(fromIso); x = ft.latestAtOrBefore(x - 1)) {
        back.push(x);
      }
      t.same(back.reverse(), listed, `backwards ${expression} ${timezone} ${fromIso}`);
    }
  }
});
