/**
 * bench/network: what a script's network access costs (CONTRACT section 10), in one run.
 *   1. A loopback GET made with urllib.request inside a function, timed in Python, against the
 *      same GET made by Node (a new connection each, as urllib makes) from this process: the
 *      median added latency (goal: under 1 ms). The same GET written on a raw socket shows how
 *      much of it is the connection through the server and how much urllib's own Python.
 *   2. The same seen from outside: a call doing one GET against a call doing nothing.
 *   3. 50 concurrent calls each doing one GET (autocannon, 50 connections): req/s and errors,
 *      against 50 concurrent calls doing nothing.
 * gitfunc runs as its own process (2 workers) on bench/fixtures/network; the GET target is a
 * plain Node HTTP server in this process.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { spawnGitfunc, stopGitfunc } from './spawn-gitfunc.js';

const REPO = path.join(import.meta.dirname, 'fixtures', 'network');
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 400);
const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 50;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const quantile = (values: number[], q: number): number => [...values].sort((a, b) => a - b)[Math.floor(values.length * q)]!;

// The GET target: a small body, a new connection each time (no keep-alive), as urllib does.
const target = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/plain', Connection: 'close' }).end('pong'));
target.listen(0, '127.0.0.1');
await once(target, 'listening');
const targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/ping`;

function nodeGet(): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(targetUrl, { agent: new Agent({ keepAlive: false }) }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - started));
    });
    req.on('error', reject);
    req.end();
  });
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-bench-network-'));
const gitfunc = await spawnGitfunc({ repo: REPO, dataDir, readyPath: '/api/v1/al/noop/s' });
const getUrl = `${gitfunc.url}/api/v1/al/get/s?url=${encodeURIComponent(targetUrl)}`;
const rawGetUrl = `${gitfunc.url}/api/v1/al/raw-get/s?url=${encodeURIComponent(targetUrl)}`;
const noopUrl = `${gitfunc.url}/api/v1/al/noop/s`;

async function timedCall(url: string): Promise<{ ms: number; body: { status?: number; ms?: number } }> {
  const started = performance.now();
  const res = await fetch(url);
  const body = (await res.json()) as { status?: number; ms?: number };
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
  return { ms: performance.now() - started, body };
}

// Warm-up: both workers have imported urllib and made connections.
for (let i = 0; i < 50; i++) await Promise.all([timedCall(getUrl), timedCall(rawGetUrl), timedCall(noopUrl), nodeGet()]);

const node: number[] = [];
const inPython: number[] = [];
const rawInPython: number[] = [];
const getCalls: number[] = [];
const noopCalls: number[] = [];
for (let i = 0; i < SAMPLES; i++) {
  node.push(await nodeGet());
  const get = await timedCall(getUrl);
  inPython.push(get.body.ms!);
  rawInPython.push((await timedCall(rawGetUrl)).body.ms!);
  getCalls.push(get.ms);
  noopCalls.push((await timedCall(noopUrl)).ms);
}

async function load(url: string): Promise<autocannon.Result> {
  return autocannon({ url, connections: CONNECTIONS, duration: LOAD_SECONDS });
}
const noopLoad = await load(noopUrl);
const getLoad = await load(getUrl);

await stopGitfunc(gitfunc);
rmSync(dataDir, { recursive: true, force: true });
target.close();

const ms = (value: number): string => `${value.toFixed(3)} ms`;
const addedInPython = median(inPython) - median(node);
const addedSeenOutside = median(getCalls) - median(noopCalls) - median(node);
console.log(`\nbench/network: ${SAMPLES} sequential samples each, then ${LOAD_SECONDS} s of ${CONNECTIONS} connections (gitfunc: 2 workers)\n`);
console.log('| measure | median | p90 |');
console.log('|---|---|---|');
console.log(`| Node GET (new connection) | ${ms(median(node))} | ${ms(quantile(node, 0.9))} |`);
console.log(`| urllib.request GET inside a function | ${ms(median(inPython))} | ${ms(quantile(inPython, 0.9))} |`);
console.log(`| **added by the function's GET (goal < 1 ms)** | **${ms(addedInPython)}** | |`);
console.log(`| raw-socket GET inside a function | ${ms(median(rawInPython))} | ${ms(quantile(rawInPython, 0.9))} |`);
console.log(`| added by the raw-socket GET (the connection through the server) | ${ms(median(rawInPython) - median(node))} | |`);
console.log(`| call doing nothing (HTTP round trip) | ${ms(median(noopCalls))} | ${ms(quantile(noopCalls, 0.9))} |`);
console.log(`| call doing one GET | ${ms(median(getCalls))} | ${ms(quantile(getCalls, 0.9))} |`);
console.log(`| added, seen from outside (GET call - noop call - Node GET) | ${ms(addedSeenOutside)} | |`);
console.log('');
console.log('| 50 concurrent calls | req/s | p50 | p99 | errors | non-2xx |');
console.log('|---|---|---|---|---|---|');
for (const [name, result] of [['doing nothing', noopLoad], ['each doing one GET', getLoad]] as const) {
  console.log(`| ${name} | ${result.requests.average.toFixed(0)} | ${result.latency.p50} ms | ${result.latency.p99} ms | ${result.errors + result.timeouts} | ${result.non2xx} |`);
}
console.log(`\nGET calls per second ÷ noop calls per second: ${(getLoad.requests.average / noopLoad.requests.average).toFixed(2)}`);
