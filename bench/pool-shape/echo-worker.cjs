'use strict';
// A Piscina worker that answers each task with its thread id, after spinning `task.ms` if given:
// what is left of a round trip once the work is gone is the pool's own cost. It announces itself
// started as the Pyodide worker does (worker-health.cts), so a WorkerSlot hands it tasks, and a
// thread started while `workerData.startDelay[0]` is set waits that many ms first (as a restore).
const { parentPort, threadId, workerData } = require('node:worker_threads');

const delay = workerData?.startDelay ? Atomics.load(new Int32Array(workerData.startDelay), 0) : 0;

function handle(task) {
  const end = Date.now() + (task?.ms ?? 0);
  while (Date.now() < end);
  return threadId;
}

module.exports = new Promise((resolve) => setTimeout(resolve, delay)).then(() => {
  parentPort.postMessage({ workerReady: threadId, heapBytes: 0 });
  return handle;
});
