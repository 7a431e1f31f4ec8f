'use strict';
// A Piscina worker that answers each task with itself: what is left of a round trip once the
// work is gone is the pool's own cost. It announces itself started as the Pyodide worker does
// (worker-health.cts), so a WorkerSlot hands it tasks.
const { parentPort, threadId } = require('node:worker_threads');

parentPort.postMessage({ workerReady: threadId, heapBytes: 0 });
module.exports = (task) => task;
