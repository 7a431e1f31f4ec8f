/**
 * The runnable examples of the documentation, and a shell that runs them.
 *
 * Convention (docs/contributing.md): a fenced block whose info string is `sh example` (or
 * `sh walkthrough`, the README's walkthrough) holds commands as `$ command` lines; a line
 * ending in `\` continues the command, and a heredoc (`<<'EOF'`) runs to its end marker. The
 * lines after a command, up to the next `$ `, are its expected standard output:
 * - JSON is compared structurally; the string "..." stands for any value (task ids, times);
 * - other text is compared line by line, `...` inside a line standing for any text;
 * - no lines: the output is not compared.
 * Every command must exit 0. Commands run in order in one bash session per file (cd, export
 * and alias carry over), with http://127.0.0.1:8088 rewritten to the test server.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface DocCommand {
  /** file:line of the `$ ` line, for failure messages. */
  where: string;
  command: string;
  expected: string[];
}

/** The commands of every block marked `sh KIND` in `file` (a path relative to the repository). */
export function docCommands(file: string, kind: 'example' | 'walkthrough'): DocCommand[] {
  const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const commands: DocCommand[] = [];
  let inBlock = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (!inBlock) {
      inBlock = line.trim() === `\`\`\`sh ${kind}`;
      continue;
    }
    if (line.trim() === '```') {
      inBlock = false;
      continue;
    }
    if (line.startsWith('$ ')) {
      const where = `${file}:${i + 1}`;
      const parts = [line.slice(2)];
      while ((parts.at(-1) ?? '').endsWith('\\') && i + 1 < lines.length) parts.push(lines[++i] ?? '');
      const heredoc = /<<-?\s*'?(\w+)'?/.exec(parts.join('\n'));
      if (heredoc) {
        while (i + 1 < lines.length && lines[i] !== heredoc[1]) parts.push(lines[++i] ?? '');
      }
      commands.push({ where, command: parts.join('\n'), expected: [] });
    } else if (commands.length > 0 && line.trim() !== '') {
      commands.at(-1)?.expected.push(line);
    } else if (line.trim() !== '') {
      throw new Error(`${file}:${i + 1}: text before the first $ command of a marked block`);
    }
  }
  return commands;
}

export interface CommandResult {
  command: DocCommand;
  stdout: string;
  stderr: string;
  code: number;
}

const MARK = '\u001e@@';

/** Runs `commands` in one bash session; each one's output, exit code and standard error. */
export function runSession(commands: DocCommand[], options: { cwd: string; env: Record<string, string>; port: number; timeoutMs: number; errDir: string }): Promise<CommandResult[]> {
  const here = (text: string): string => text.replaceAll('127.0.0.1:8088', `127.0.0.1:${options.port}`);
  // `gitfunc` as the README's alias runs it: the built dist/ (CI builds it before the tests).
  const script = [
    'shopt -s expand_aliases',
    `alias gitfunc=${JSON.stringify(`node ${path.join(ROOT, 'bin', 'gitfunc.js')}`)}`,
    ...commands.map((c, n) => `printf '\\n${MARK}start ${n}\\n'\n{\n${here(c.command)}\n} 2>${JSON.stringify(path.join(options.errDir, String(n)))} </dev/null\nprintf '\\n${MARK}end ${n} %d\\n' $?`),
    'kill $(jobs -p) 2>/dev/null; wait; exit 0',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const bash = spawn('bash', ['-c', script], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    bash.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    bash.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const timer = setTimeout(() => {
      if (bash.pid !== undefined) process.kill(-bash.pid, 'SIGKILL');
    }, options.timeoutMs);
    bash.on('error', reject);
    bash.on('close', () => {
      clearTimeout(timer);
      const results: CommandResult[] = [];
      const pattern = new RegExp(`\\n${MARK}start (\\d+)\\n([\\s\\S]*?)\\n?\\n${MARK}end \\1 (\\d+)\\n`, 'g');
      for (const match of out.matchAll(pattern)) {
        const n = Number(match[1]);
        let stderr = '';
        try {
          stderr = readFileSync(path.join(options.errDir, String(n)), 'utf8');
        } catch {}
        results.push({ command: commands[n] as DocCommand, stdout: match[2] ?? '', stderr, code: Number(match[3]) });
      }
      if (results.length < commands.length) {
        const stuck = commands[results.length];
        results.push({ command: stuck as DocCommand, stdout: out.slice(-2000), stderr: err, code: -1 });
      }
      resolve(results);
    });
  });
}

/** Why `result` differs from what its documentation shows, or undefined when it matches. */
export function mismatch(result: CommandResult, port: number): string | undefined {
  const { command } = result;
  const show = `${command.where}: $ ${command.command.split('\n')[0]}`;
  if (result.code !== 0) return `${show}\nexit ${result.code === -1 ? '(did not finish)' : result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  if (command.expected.length === 0) return undefined;
  const expectedText = command.expected.join('\n').replaceAll('127.0.0.1:8088', `127.0.0.1:${port}`);
  const actual = result.stdout.trimEnd();
  const expectedJson = parseJson(expectedText);
  if (expectedJson !== undefined) {
    const actualJson = parseJson(actual);
    if (actualJson !== undefined && jsonMatches(expectedJson.value, actualJson.value)) return undefined;
  } else if (textMatches(expectedText, actual)) {
    return undefined;
  }
  return `${show}\nexpected:\n${expectedText}\nactual:\n${actual}\nstderr: ${result.stderr}`;
}

function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/** Structural equality, where the expected string "..." matches any value. */
function jsonMatches(expected: unknown, actual: unknown): boolean {
  if (expected === '...') return true;
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => jsonMatches(e, actual[i]));
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const keys = Object.keys(expected);
    return keys.length === Object.keys(actual).length && keys.every((k) => k in actual && jsonMatches((expected as Record<string, unknown>)[k], (actual as Record<string, unknown>)[k]));
  }
  return expected === actual;
}

function textMatches(expected: string, actual: string): boolean {
  const expectedLines = expected.split('\n');
  const actualLines = actual.split('\n');
  if (expectedLines.length !== actualLines.length) return false;
  return expectedLines.every((line, i) => {
    const pattern = line.trimEnd().split('...').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
    return new RegExp(`^${pattern}$`).test((actualLines[i] ?? '').trimEnd());
  });
}
