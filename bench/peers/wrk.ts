// One wrk run of bench/peers/hello.lua (POST {"message":"hi"}) and the JSON line its done() hook prints.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { track } from './processes.js';

const SCRIPT = path.join(import.meta.dirname, 'hello.lua');

/** What hello.lua's done() prints (latencies in µs), plus req/s. */
export interface WrkResult {
  requests: number;
  durationUs: number;
  socketErrors: number;
  /** Answers with a status of 400 or more (what wrk counts). */
  status4xx5xx: number;
  timeouts: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  meanUs: number;
  maxUs: number;
  rps: number;
}

/** Whether a `wrk` is on the PATH (Debian's package installs /usr/bin/wrk). */
export function wrkInstalled(): boolean {
  return (spawnSync('wrk', ['-v']).error as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT';
}

/** `connections` connections on `threads` threads for `seconds` against `url`. */
export function runWrk(url: string, connections: number, seconds: number, threads: number): Promise<WrkResult> {
  const args = ['-t', String(Math.min(threads, connections)), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '5s', '-s', SCRIPT, url];
  const child = track(spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const line = /^WRK_RESULT (.*)$/m.exec(output);
      if (code !== 0 || !line) {
        reject(new Error(`wrk ${args.join(' ')} ended with ${code ?? signal}; its output:\n${output}`));
        return;
      }
      const result = JSON.parse(line[1]!) as Omit<WrkResult, 'rps'>;
      resolve({ ...result, rps: result.requests / (result.durationUs / 1e6) });
    });
  });
}
