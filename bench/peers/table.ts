// bench/peers' one table: per server and connection count the median req/s and p50 of its
// rounds, then the comparisons as medians of per-round ratios (measured moments apart).
import { median } from '../stats.js';
import type { WrkResult } from './wrk.js';

/** One server's measured rounds, per connection count. */
export interface Measured {
  name: string;
  runs: Map<number, WrkResult[]>;
}

/** A row of ratios `top ÷ bottom`, and the added p50 of `top` over `bottom` at 1 connection. */
export interface Comparison {
  top: Measured;
  bottom: Measured;
}

const rounded = (value: number): string => String(Math.round(value));
const perRound = (top: WrkResult[], bottom: WrkResult[], of: (top: WrkResult, bottom: WrkResult) => number): number[] =>
  top.map((result, round) => of(result, bottom[round]!));

/** `0.35 (0.31-0.40)`: the median of per-round values with their range. */
function withRange(values: number[], digits: number): string {
  const fmt = (value: number): string => value.toFixed(digits);
  return `${fmt(median(values))} (${fmt(Math.min(...values))}-${fmt(Math.max(...values))})`;
}

export function formatTable(servers: Measured[], comparisons: Comparison[], connections: number[]): string[] {
  const head = ['', ...connections.flatMap((c) => [`${c} conn req/s`, `${c} conn p50 µs`]), 'errors'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const server of servers) {
    const cells = connections.flatMap((c) => {
      const runs = server.runs.get(c)!;
      return [rounded(median(runs.map((r) => r.rps))), rounded(median(runs.map((r) => r.p50Us)))];
    });
    const errors = [...server.runs.values()].flat().reduce((sum, r) => sum + r.socketErrors + r.status4xx5xx + r.timeouts, 0);
    lines.push(`| ${server.name} | ${cells.join(' | ')} | ${errors} |`);
  }
  for (const { top, bottom } of comparisons) {
    const cells = connections.flatMap((c) => {
      const [a, b] = [top.runs.get(c)!, bottom.runs.get(c)!];
      return [withRange(perRound(a, b, (x, y) => x.rps / y.rps), 2), withRange(perRound(a, b, (x, y) => x.p50Us / y.p50Us), 2)];
    });
    lines.push(`| ${top.name} ÷ ${bottom.name} | ${cells.join(' | ')} | |`);
  }
  if (connections.includes(1)) {
    lines.push('');
    for (const { top, bottom } of comparisons) {
      const added = perRound(top.runs.get(1)!, bottom.runs.get(1)!, (x, y) => x.p50Us - y.p50Us);
      lines.push(`added p50 of ${top.name} over ${bottom.name} at 1 connection: ${withRange(added, 0)} µs`);
    }
  }
  return lines;
}
