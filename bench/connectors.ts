/**
 * bench/connectors: what a script's SQL connector costs (CONTRACT section 12), in one run.
 *   1. DFF.CONN('mysql').query('SELECT 1') timed in Python inside a function, against the same
 *      query from Node with mysql2 (a pool, as the server holds) in this process: the median
 *      round trip of each and what the function's adds.
 *   2. The same seen from outside: a call doing the query against a call doing nothing.
 *   3. 50 concurrent calls each doing the query (autocannon, 50 connections): calls/s, latency
 *      and errors, against 50 concurrent calls doing nothing.
 * gitfunc runs as its own process (2 workers) on bench/fixtures/connectors, against the MariaDB
 * on 127.0.0.1:3306 (root, no password, database test).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { createPool } from 'mysql2/promise';
import { spawnGitfunc, stopGitfunc } from './spawn-gitfunc.js';

const REPO = path.join(import.meta.dirname, 'fixtures', 'connectors');
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 400);
const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 50;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const quantile = (values: number[], q: number): number => [...values].sort((a, b) => a - b)[Math.floor(values.length * q)]!;

const nodePool = createPool({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test', connectionLimit: 5 });
async function nodeQuery(): Promise<number> {
  const started = performance.now();
  await nodePool.query('SELECT 1 AS one');
  return performance.now() - started;
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-bench-connectors-'));
const gitfunc = await spawnGitfunc({ repo: REPO, dataDir, readyPath: '/api/v1/al/noop/s' });
const queryUrl = `${gitfunc.url}/api/v1/al/select-1/s`;
const noopUrl = `${gitfunc.url}/api/v1/al/noop/s`;

async function timedCall(url: string): Promise<{ ms: number; body: { ms?: number } }> {
  const started = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text}`);
  return { ms: performance.now() - started, body: text.startsWith('{') ? (JSON.parse(text) as { ms?: number }) : {} };
}

// Warm-up: both workers have made the helper, the pools hold open connections.
for (let i = 0; i < 50; i++) await Promise.all([timedCall(queryUrl), timedCall(queryUrl), timedCall(noopUrl), nodeQuery()]);

const node: number[] = [];
const inPython: number[] = [];
const queryCalls: number[] = [];
const noopCalls: number[] = [];
for (let i = 0; i < SAMPLES; i++) {
  node.push(await nodeQuery());
  const query = await timedCall(queryUrl);
  inPython.push(query.body.ms!);
  queryCalls.push(query.ms);
  noopCalls.push((await timedCall(noopUrl)).ms);
}

async function load(url: string): Promise<autocannon.Result> {
  return autocannon({ url, connections: CONNECTIONS, duration: LOAD_SECONDS });
}
const noopLoad = await load(noopUrl);
const queryLoad = await load(queryUrl);

await stopGitfunc(gitfunc);
rmSync(dataDir, { recursive: true, force: true });
await nodePool.end();

const ms = (value: number): string => `${value.toFixed(3)} ms`;
console.log(`\nbench/connectors: ${SAMPLES} sequential samples each, then ${LOAD_SECONDS} s of ${CONNECTIONS} connections (gitfunc: 2 workers, poolSize 5)\n`);
console.log('| measure | median | p90 |');
console.log('|---|---|---|');
console.log(`| Node mysql2 pool: SELECT 1 | ${ms(median(node))} | ${ms(quantile(node, 0.9))} |`);
console.log(`| DFF.CONN('mysql').query('SELECT 1') inside a function | ${ms(median(inPython))} | ${ms(quantile(inPython, 0.9))} |`);
console.log(`| **added by the connector (function - Node)** | **${ms(median(inPython) - median(node))}** | |`);
console.log(`| call doing nothing (HTTP round trip) | ${ms(median(noopCalls))} | ${ms(quantile(noopCalls, 0.9))} |`);
console.log(`| call doing the query | ${ms(median(queryCalls))} | ${ms(quantile(queryCalls, 0.9))} |`);
console.log('');
console.log('| 50 concurrent calls | calls/s | p50 | p99 | errors | non-2xx |');
console.log('|---|---|---|---|---|---|');
for (const [name, result] of [['doing nothing', noopLoad], ["each doing DFF.CONN('mysql').query('SELECT 1')", queryLoad]] as const) {
  console.log(`| ${name} | ${result.requests.average.toFixed(0)} | ${result.latency.p50} ms | ${result.latency.p99} ms | ${result.errors + result.timeouts} | ${result.non2xx} |`);
}
console.log(`\nquery calls per second ÷ noop calls per second: ${(queryLoad.requests.average / noopLoad.requests.average).toFixed(2)}`);
