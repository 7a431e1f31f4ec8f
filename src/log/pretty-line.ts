/**
 * `log.format: pretty`: one short line per log entry for a person at a terminal,
 * `12:01:02 INFO  revision served  commit=abc1234 ms=812`. It shows the fields the JSON line
 * holds (nothing more, so nothing the JSON logger keeps out), with source positions as
 * `file:line:col message` on lines of their own so editors and terminals can jump to them.
 */

const LEVEL_LABELS: Readonly<Record<number, string>> = Object.freeze({ 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' });
/** Fields every entry has, or that the line shows in its own place. */
const OMITTED_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'service', 'msg']);
const COMMIT_ID = /^[0-9a-f]{40}$/;
/** A value that needs quotes to stay one `key=value` pair. */
const NEEDS_QUOTES = /[\s="]/;
/** Longest object or array shown inline; anything longer is cut with an ellipsis. */
const MAX_INLINE_CHARS = 200;

type Entry = Record<string, unknown>;

/** A source position a problem or failure names, with what is wrong there. */
interface Position {
  file: string;
  line: number;
  col?: number;
  message?: string;
  severity?: string;
}

function isPosition(value: unknown): value is Position {
  const candidate = value as Position | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.file === 'string' && typeof candidate.line === 'number';
}

function hhmmss(time: unknown): string {
  const date = typeof time === 'number' ? new Date(time) : new Date();
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((part) => String(part).padStart(2, '0')).join(':');
}

function positionLine(position: Position): string {
  const where = `${position.file}:${position.line}:${position.col ?? 1}`;
  const severity = position.severity === undefined || position.severity === 'error' ? '' : ` ${position.severity}:`;
  return `    ${where}${severity} ${position.message ?? ''}`.trimEnd();
}

function showValue(value: unknown): string {
  if (typeof value === 'string') {
    if (COMMIT_ID.test(value)) return value.slice(0, 7);
    return value === '' || NEEDS_QUOTES.test(value) ? JSON.stringify(value) : value;
  }
  if (value === null || typeof value !== 'object') return String(value);
  const json = JSON.stringify(value);
  return json.length > MAX_INLINE_CHARS ? `${json.slice(0, MAX_INLINE_CHARS)}…` : json;
}

/** A serialized error (pino's `err`): its type and message, and its code when it has one. */
function showError(err: unknown): string[] {
  if (typeof err !== 'object' || err === null) return [`err=${showValue(err)}`];
  const { type, message, code } = err as { type?: unknown; message?: unknown; code?: unknown };
  const text = [type, message].filter((part) => typeof part === 'string' && part !== '').join(': ');
  return [`err=${showValue(text)}`, ...(typeof code === 'string' ? [`code=${code}`] : [])];
}

/** One JSON log entry as a pretty line (plus a line per source position it names), ending in '\n'. */
export function formatPrettyLine(entry: Entry): string {
  const level = LEVEL_LABELS[entry.level as number] ?? String(entry.level);
  const pairs: string[] = [];
  const positions: Position[] = [];
  let fields: Entry = entry;
  if (isPosition(entry)) {
    positions.push(entry);
    const { file: _file, line: _line, col: _col, message: _message, severity: _severity, ...rest } = entry;
    fields = rest;
  }
  for (const [key, value] of Object.entries(fields)) {
    if (OMITTED_FIELDS.has(key) || value === undefined) continue;
    if (key === 'err') pairs.push(...showError(value));
    else if (Array.isArray(value) && value.length > 0 && value.every(isPosition)) positions.push(...value);
    else pairs.push(`${key}=${showValue(value)}`);
  }
  const head = `${hhmmss(entry.time)} ${level.padEnd(5)} ${String(entry.msg ?? '')}`;
  const line = pairs.length === 0 ? head : `${head}  ${pairs.join(' ')}`;
  return [line, ...positions.map(positionLine)].join('\n') + '\n';
}

/** A destination for pino that writes pretty lines to `out`; a line that is not JSON passes through as is. */
export function prettyDestination(out: NodeJS.WritableStream): { write(chunk: string): boolean } {
  return {
    write(chunk: string): boolean {
      let text = '';
      for (const line of chunk.split('\n')) {
        if (line === '') continue;
        try {
          text += formatPrettyLine(JSON.parse(line) as Entry);
        } catch (error) {
          // Not JSON: never lose a line, show it as it came.
          if (!(error instanceof SyntaxError)) throw error;
          text += `${line}\n`;
        }
      }
      return text === '' ? true : out.write(text);
    },
  };
}
