/**
 * Piscina worker entry: hosts one Pyodide interpreter, loaded once per thread.
 *
 * CommonJS on purpose: Piscina loads an ESM entry through `new Function`, which a later
 * hardening step (no code generation from strings) forbids; a CJS entry is `require`d.
 */
import fs = require('node:fs');
import path = require('node:path');
import { MessageChannel, type MessagePort, parentPort, receiveMessageOnPort, threadId, workerData } from 'node:worker_threads';
import type { PyodideInterface } from 'pyodide';
import type { PyCallable, PyProxy } from 'pyodide/ffi';
import type { ErrorJSON } from '../errors.js' with { 'resolution-mode': 'import' };
import { createBridgeClient } from './bridge/bridge-client.cjs';
import { createInterruptibleSleep } from './interruptible-sleep.cjs';
import { assertNoCodeGeneration, lockDown, refuseHostModules } from './sandbox.cjs';
import { type SnapshotSource, startInterpreter } from './snapshot/interpreter.cjs';
import type { StartTurn } from './snapshot/start-turns.cjs';
import { INTERRUPT_SLOT, TASK_STATE_BYTES, THREAD_SLOT } from './task-state.cjs';
import { announceStartFailed, askToBeReplaced, type BatchReport, WorkerHealth } from './worker-health.cjs';
import type {
  BatchEnd,
  CaBundleFile,
  CallBatchTask,
  CallChannelOffer,
  CallOutcome,
  CallResultMessage,
  CallTask,
  InspectOutcome,
  InspectTask,
  RevisionRef,
  WorkerTask,
} from './worker-protocol.cjs';
import { importCheckCut } from './worker-protocol.cjs';

const SCRIPT_NAME = /^[A-Za-z0-9_]+$/;
/** A script's request to the server thread (DFF.CACHE) fails after this long without an answer. */
const BRIDGE_TIMEOUT_MS = 10_000;
/** A deadline stops a script waiting on the bridge, or sleeping, within this long. */
const WAIT_SLICE_MS = 20;

interface Runtime {
  pyodide: PyodideInterface;
  loadRevision: PyCallable;
  dropRevisions: PyCallable;
  inspectRevision: PyCallable;
  call: PyCallable;
  takeLog: PyCallable;
}

const runtime: Promise<Runtime> = startRuntime();
/** Calls served and heap size (limits.workerMaxCalls, workerHeapMB); set once the interpreter is up. */
let health: WorkerHealth | undefined;
// A failed start is reported by the task handler, which awaits `runtime` too.
runtime.then((rt) => {
  health = new WorkerHealth(() => wasmHeapBytes(rt.pyodide));
  offerCallChannel(rt);
  health.announceReady();
}, announceStartFailed);
let lastLive = '';
let lastLiveArray: string[] | undefined;
/** Revisions loaded into this worker's interpreter, mirrored here to skip a Python call per task. */
const loadedRevisions = new Set<string>();
/** Loaded revisions whose every script was imported here (by an import check or a warm-up). */
const importedRevisions = new Set<string>();
/** Where installed package folders are mounted inside Pyodide: `/gitfunc-packages/<folder name>`. */
const PACKAGES_MOUNT = '/gitfunc-packages';
/** The mount path of each loaded revision's packages folder. */
const revisionPackages = new Map<string, string>();
/** Mounted packages folders and how many loaded revisions use each (revisions pinning the same wheels share one). */
const packageMounts = new Map<string, number>();

async function startRuntime(): Promise<Runtime> {
  assertNoCodeGeneration();
  const data = workerData as { snapshot?: SnapshotSource; caBundle?: CaBundleFile; startTurn?: StartTurn } | null;
  const { pyodide, start } = await startInterpreter(data?.snapshot, data?.startTurn);
  parentPort!.postMessage({ interpreterStart: start });
  if (data?.caBundle !== undefined) writeCaBundle(pyodide, data.caBundle);
  // A JS object cannot be in a snapshot: the transport is set after the interpreter starts.
  const bridge = pyodide.pyimport('gitfunc_bridge') as PyProxy & Record<string, PyCallable>;
  bridge.set_transport(
    createBridgeClient({
      postHello: (hello, transfer) => parentPort!.postMessage(hello, transfer),
      // The call's interrupt flag is Pyodide's interrupt buffer (see underInterrupt).
      checkInterrupt: () => pyodide.checkInterrupt(),
      timeoutMs: BRIDGE_TIMEOUT_MS,
      sliceMs: WAIT_SLICE_MS,
      onRequest: () => Atomics.store(bridgeAsked, 0, 1),
    }),
  );
  const sleep = pyodide.pyimport('gitfunc_sleep') as PyProxy & Record<string, PyCallable>;
  sleep.set_waiter(createInterruptibleSleep({ checkInterrupt: () => pyodide.checkInterrupt(), sliceMs: WAIT_SLICE_MS }));
  const module = pyodide.pyimport('gitfunc_runtime') as PyProxy & Record<string, PyCallable>;
  lockDown(pyodide);
  refuseHostModules();
  return {
    pyodide,
    loadRevision: module.load_revision,
    dropRevisions: module.drop_revisions,
    inspectRevision: module.inspect_revision,
    call: module.call,
    takeLog: module.take_log,
  };
}

/** In Pyodide's in-memory file system: scripts read it (certifi's `where()`), the server verifies against it. */
function writeCaBundle(pyodide: PyodideInterface, bundle: CaBundleFile): void {
  pyodide.FS.mkdirTree(path.posix.dirname(bundle.path));
  pyodide.FS.writeFile(bundle.path, bundle.pem);
}

/** `<set>/<script>.py` files of a revision, as {scriptId: [relativePath, source]}. */
function readScripts(dir: string): Record<string, [string, string]> {
  const scripts: Record<string, [string, string]> = {};
  for (const set of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!set.isDirectory() || !SCRIPT_NAME.test(set.name) || set.name.startsWith('_')) continue;
    for (const file of fs.readdirSync(path.join(dir, set.name), { withFileTypes: true })) {
      const script = file.name.slice(0, -3);
      if (!file.isFile() || !file.name.endsWith('.py') || !SCRIPT_NAME.test(script) || script.startsWith('_')) continue;
      const relative = `${set.name}/${file.name}`;
      scripts[`${set.name}__${script}`] = [relative, fs.readFileSync(path.join(dir, relative), 'utf8')];
    }
  }
  return scripts;
}

function ensureRevision(rt: Runtime, revision: RevisionRef, live: string[]): void {
  // The calls of one batch share one `live` array (a message keeps shared references), so
  // the set is compared once per batch, and Python is asked to drop only when it changed.
  if (live !== lastLiveArray) {
    lastLiveArray = live;
    const liveKey = live.join(',');
    if (liveKey !== lastLive) {
      // Python lets go of the dropped revisions' package modules before their folders are unmounted.
      rt.dropRevisions(JSON.stringify(live));
      for (const id of loadedRevisions) {
        if (live.includes(id)) continue;
        loadedRevisions.delete(id);
        importedRevisions.delete(id);
        unmountPackages(rt, id);
      }
      lastLive = liveKey;
    }
  }
  if (!loadedRevisions.has(revision.id)) {
    const packagesMount = revision.packagesDir === undefined ? undefined : mountPackages(rt, revision.id, revision.packagesDir);
    rt.loadRevision(revision.id, JSON.stringify(readScripts(revision.dir)), JSON.stringify(revision.env), packagesMount, JSON.stringify(revision.connectors ?? {}));
    loadedRevisions.add(revision.id);
  }
}

/**
 * Mounts a revision's installed packages (NODEFS, read from the host as imported: nothing is
 * copied into the heap) at a path named after the folder, the same in every worker; returns it.
 */
function mountPackages(rt: Runtime, revisionId: string, hostDir: string): string {
  const mountPath = `${PACKAGES_MOUNT}/${path.basename(hostDir)}`;
  const users = packageMounts.get(mountPath) ?? 0;
  if (users === 0) {
    rt.pyodide.FS.mkdirTree(mountPath);
    rt.pyodide.mountNodeFS(mountPath, hostDir);
  }
  packageMounts.set(mountPath, users + 1);
  revisionPackages.set(revisionId, mountPath);
  return mountPath;
}

/** Unmounts a dropped revision's packages folder once no loaded revision uses it. */
function unmountPackages(rt: Runtime, revisionId: string): void {
  const mountPath = revisionPackages.get(revisionId);
  if (mountPath === undefined) return;
  revisionPackages.delete(revisionId);
  const users = (packageMounts.get(mountPath) ?? 1) - 1;
  if (users > 0) {
    packageMounts.set(mountPath, users);
    return;
  }
  packageMounts.delete(mountPath);
  rt.pyodide.FS.unmount(mountPath);
  rt.pyodide.FS.rmdir(mountPath);
}

const NEVER_INTERRUPTED = new Int32Array(new SharedArrayBuffer(4));
const OUTCOME_KINDS: Record<string, CallOutcome['kind']> = { j: 'json', t: 'text', e: 'error', x: 'timeout', r: 'response' };

/**
 * Runs Python under a task's shared state: its interrupt flag becomes Pyodide's interrupt
 * buffer, and this thread's id is published so a task that never stops can be terminated.
 * Returns undefined when the deadline passed while the task waited (it does not run), or when
 * the interrupt landed just outside the runtime's own `except KeyboardInterrupt` (as the
 * runtime entered, or while it packed the result): Python is fine, the task timed out.
 */
function underInterrupt<T>(rt: Runtime, task: { interrupt: SharedArrayBuffer; interruptOffset: number }, run: () => T): T | undefined {
  const state = new Int32Array(task.interrupt, task.interruptOffset, TASK_STATE_BYTES / 4);
  if (Atomics.load(state, INTERRUPT_SLOT) !== 0) return undefined;
  Atomics.store(state, THREAD_SLOT, threadId);
  Atomics.notify(state, THREAD_SLOT); // an import check's deadline starts now
  rt.pyodide.setInterruptBuffer(atomicInterruptBuffer(state));
  try {
    return run();
  } catch (error) {
    if (error instanceof Error && (error as Error & { type?: string }).type === 'KeyboardInterrupt') return undefined;
    throw error;
  } finally {
    // A deadline that fires just after the task must not interrupt the next Python this
    // thread runs (loading a revision, an import check).
    rt.pyodide.setInterruptBuffer(NEVER_INTERRUPTED);
  }
}

/**
 * A task's interrupt flag in the shape of Pyodide's interrupt buffer. Pyodide polls the buffer
 * by reading `[0]` and then writing 0 to it, two steps: a SIGINT the server stores between them
 * is wiped out and Python runs on until the deadline terminates its worker (seen in CI on a
 * loaded machine). Here the read is one atomic exchange with 0, and Pyodide's write does nothing.
 */
function atomicInterruptBuffer(state: Int32Array): Int32Array {
  const buffer = {
    get 0(): number {
      return Atomics.exchange(state, INTERRUPT_SLOT, 0);
    },
    set 0(_cleared: number) {},
  };
  return buffer as unknown as Int32Array;
}

function runCall(rt: Runtime, task: CallTask): CallOutcome {
  // A plain string crosses from Python without a proxy: kind letter, log flag, then the body.
  const startedAt = Date.now();
  // A background call's time counts from its start (see armDeadlineAtStart), a sync call's from when it was queued.
  const deadlineAt = (task.timedFrom ?? startedAt) + task.timeoutMs;
  const packed = underInterrupt(rt, task, () =>
    task.uploadDir === null ? callPython(rt, task, deadlineAt) : callWithUploads(rt, task, task.uploadDir, deadlineAt),
  );
  if (packed === undefined) return { kind: 'timeout', body: '', log: null };
  const log = packed[1] === '1' ? (rt.takeLog() as string) : null;
  const kind = OUTCOME_KINDS[packed[0]!]!;
  if (kind === 'error') return { kind, body: '', error: functionRaised(packed.slice(2)), log, startedAt, endedAt: Date.now() };
  return { kind, body: packed.slice(2), log, startedAt, endedAt: Date.now() };
}

/** A FunctionRaisedError's JSON, from the runtime's `{exception, traceback}` (see gitfunc_runtime.call). */
function functionRaised(detailJson: string): ErrorJSON {
  const detail = JSON.parse(detailJson) as { exception: string; traceback: string };
  return { code: 'FUNC_FAILED', message: `Function raised ${detail.exception}`, data: { exception: detail.exception, traceback: detail.traceback } };
}

/** `deadlineAt`: epoch ms when the call's time is up (the script's connectors give up then). */
function callPython(rt: Runtime, task: CallTask, deadlineAt: number): string {
  return rt.call(
    task.revision.id,
    task.funcId,
    task.kwargsJson,
    task.taskId,
    task.origin,
    task.originId,
    task.attempt,
    task.httpRequestJson ?? undefined, // JS null reaches Python as jsnull, undefined as None
    task.returnType,
    task.cronExpr ?? undefined,
    deadlineAt,
  ) as string;
}

/**
 * A call with uploaded files: its upload folder is mounted (NODEFS) at the same absolute path
 * inside Pyodide for this call only, so `filePath` opens as given and no other call's folder
 * is visible.
 */
function callWithUploads(rt: Runtime, task: CallTask, uploadDir: string, deadlineAt: number): string {
  rt.pyodide.mountNodeFS(uploadDir, uploadDir);
  try {
    return callPython(rt, task, deadlineAt);
  } finally {
    rt.pyodide.FS.unmount(uploadDir);
    rt.pyodide.FS.rmdir(uploadDir);
  }
}

/** The import check, stopped at its deadline like a call. */
function inspectUnderDeadline(rt: Runtime, task: InspectTask): InspectOutcome {
  return (
    underInterrupt(rt, task, () => inspect(rt)(task.revision.id)) ??
    importCheckCut({
      code: 'IMPORT_CHECK_TIMEOUT',
      message: 'importing the scripts did not finish within the time allowed (limits.importSeconds)',
      data: {},
    })
  );
}

function inspect(rt: Runtime): (id: string) => InspectOutcome {
  return (id) => JSON.parse(rt.inspectRevision(id) as string) as InspectOutcome;
}

/** The interpreter's WASM memory, in bytes: it only ever grows. */
function wasmHeapBytes(pyodide: PyodideInterface): number {
  // `_module` is Pyodide's Emscripten module: private, but the only way to see the heap size.
  return (pyodide as unknown as { _module: { HEAP8: Int8Array } })._module.HEAP8.length;
}

/**
 * A JS-level error out of Pyodide means the interpreter itself failed (`os._exit`, a fatal
 * error): Python exceptions never get here, the runtime catches them. A dead interpreter
 * answers nothing useful again, so the thread exits after answering and Piscina replaces it.
 */
function exitAfterReply(): void {
  interpreterDead = true;
  // Its call results were posted on parentPort before this, so they reach the server first.
  askToBeReplaced();
}
let interpreterDead = false;

/** Set before each bridge request, for a server thread polling for a result (see CallChannelOffer). */
const bridgeAsked = new Int32Array(new SharedArrayBuffer(4));

/**
 * How long a worker polls its call channel after a batch of a quiet server before it parks in
 * its event loop. The next call of a lone client comes ~200 µs or more after a result (0.2 ms
 * mostly missed it); taking it from a thread that did not sleep saves its wake-up, which on a VM
 * is an interrupt to a halted virtual CPU paid by both threads (docs/performance.md, "Waiting in
 * place when quiet").
 */
const WAIT_IN_PLACE_MS = 0.5;

/** Runs a batch in order, posting each result on `channel` as soon as its call ends. */
function runBatch(rt: Runtime, batch: CallBatchTask, channel: MessagePort): BatchReport {
  for (const call of batch.calls) {
    ensureRevision(rt, call.revision, call.live);
    const message: CallResultMessage = { callId: call.callId, outcome: runCall(rt, call) };
    channel.postMessage(message);
  }
  return health!.afterBatch(batch.calls.length);
}

/**
 * Call batches come on a channel of their own from now on (see CallChannelOffer). Its
 * messages are handled between Piscina's tasks, which run with `atomics: 'disabled'` so
 * that this thread's event loop turns while it waits for work (see WorkerSlot).
 */
function offerCallChannel(rt: Runtime): void {
  const { port1: channel, port2 } = new MessageChannel();
  const answer = (batch: CallBatchTask): void => {
    // A batch posted before the exit below: leave unanswered, so the pool runs it elsewhere.
    if (interpreterDead) process.exit(1);
    let end: BatchEnd;
    try {
      end = { batchReport: runBatch(rt, batch, channel) };
    } catch (error) {
      const failure = taskFailure(error);
      if (failure.code === 'WORKER_INTERPRETER_FAILED') exitAfterReply();
      end = { batchFailed: failure };
    }
    channel.postMessage(end);
  };
  channel.on('message', (first: CallBatchTask) => {
    let batch: CallBatchTask | undefined = first;
    while (batch !== undefined) {
      answer(batch);
      batch = batch.waitInPlace ? nextBatchWithin(channel, WAIT_IN_PLACE_MS) : undefined;
    }
  });
  const offer: CallChannelOffer = { callChannel: port2, bridgeAsked: bridgeAsked.buffer as SharedArrayBuffer };
  parentPort!.postMessage(offer, [port2]);
}

/**
 * Piscina's task handler. A failed task throws its error's JSON (see taskFailure): Piscina
 * posts what is thrown by structured clone, which keeps a plain object whole but drops an
 * Error's class and own properties; the server's WorkerSlot revives it.
 */
async function handle(task: WorkerTask): Promise<InspectOutcome | undefined> {
  // A task posted before the exit below: leave unanswered, so the pool runs it elsewhere.
  if (interpreterDead) process.exit(1);
  let rt: Runtime;
  try {
    rt = await runtime;
  } catch (error) {
    // The interpreter failed to start: each task fails with why (see announceStartFailed).
    throw taskFailure(error);
  }
  try {
    switch (task.type) {
      case 'calls':
        // Batches come through Piscina only to a worker that offered no call channel, one
        // whose interpreter failed to start: it failed them above.
        throw new Error('a call batch came through Piscina to a worker that has a call channel');
      case 'inspect': {
        ensureRevision(rt, task.revision, task.live);
        const outcome = inspectUnderDeadline(rt, task);
        importedRevisions.add(task.revision.id);
        return outcome;
      }
      case 'warm':
        ensureRevision(rt, task.revision, task.live);
        // Imports every script now, so that the first call does not (a server's first
        // revision was imported here already if this worker ran its import check).
        if (!importedRevisions.has(task.revision.id)) {
          inspect(rt)(task.revision.id);
          importedRevisions.add(task.revision.id);
        }
        return undefined;
    }
  } catch (error) {
    const failure = taskFailure(error);
    if (failure.code === 'WORKER_INTERPRETER_FAILED') exitAfterReply();
    throw failure;
  }
}

/**
 * A WorkerError's JSON for what a task threw: a Node system error (reading a revision's files)
 * fails the task only; anything else was raised by Pyodide's own machinery (or its start):
 * the interpreter failed.
 */
function taskFailure(error: unknown): ErrorJSON {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('E')) {
    return { code: 'WORKER_TASK_FAILED', message, data: { cause: error.code } };
  }
  return { code: 'WORKER_INTERPRETER_FAILED', message, data: {} };
}

/** The next batch posted on `channel` within `ms`, polled for without parking the thread. */
function nextBatchWithin(channel: MessagePort, ms: number): CallBatchTask | undefined {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const received = receiveMessageOnPort(channel);
    if (received !== undefined) return received.message as CallBatchTask;
  }
  return undefined;
}

/*
 * Piscina awaits an exported promise before it reports the worker ready. So a replacement
 * worker (after a crash, a timeout kill or a recycle) gets no call until its interpreter is
 * loaded, and it loads at once: once ready, an idle Piscina worker blocks in Atomics.wait and
 * would otherwise load Pyodide only when its first call arrived, making that call wait.
 * A failed start still exports the handler, which then reports the failure on each task.
 */
export = runtime.then(
  () => handle,
  () => handle,
);
