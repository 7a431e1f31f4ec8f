import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadSettings } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { type RunningServer, type StartOptions, startServer } from '../../src/server.js';

export const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures');
export const EXAMPLE_REPO = path.resolve(import.meta.dirname, '..', '..', 'functions.example');
/**
 * One interpreter snapshot dir for the whole suite: the first server builds the snapshot (its
 * file name carries the key, the build is locked against parallel test files), every later
 * one starts its workers from it.
 */
export const SHARED_SNAPSHOT_DIR = path.join(os.tmpdir(), 'gitfunc-test-snapshots');

/** Every file under `dir`, as {relativePath: content}, for createWorkRepo. */
export function readTree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    files[path.relative(dir, full)] = readFileSync(full, 'utf8');
  }
  return files;
}

/** Like readTree, with binary files (committed wheels) as bytes. */
export function readTreeFiles(dir: string): Record<string, string | Buffer> {
  const files: Record<string, string | Buffer> = readTree(dir);
  for (const name of Object.keys(files)) if (name.endsWith('.whl')) files[name] = readFileSync(path.join(dir, name));
  return files;
}

export interface TestServer {
  server: RunningServer;
  url: string;
  /** The server's own data dir (removed by close). */
  dataDir: string;
  /** JSON log lines the server wrote. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts gitfunc in this process with its own data dir; `args` are CLI flags; `options` e.g. a fake clock. */
export async function startGitfunc(
  args: string[],
  env: Record<string, string> = {},
  options: Pick<StartOptions, 'clock'> = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-test-'));
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const settings = loadSettings({
    argv: ['--port', '0', '--data-dir', dataDir, '--workers', '1', ...args],
    env: { GITFUNC_SNAPSHOT_DIR: SHARED_SNAPSHOT_DIR, ...env },
    cwd: process.cwd(),
  });
  try {
    const server = await startServer(settings, { ...options, logger: createLogger('info', sink), processEnv: env });
    return {
      server,
      url: server.url,
      dataDir,
      logs,
      close: async () => {
        await server.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
