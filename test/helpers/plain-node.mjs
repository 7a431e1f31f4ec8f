// Runs each test file without tap's process-info hooks (the `node-arg` of tap's config).
//
// tap's runner starts a test file as `node --enable-source-maps --import=@tapjs/processinfo ...`,
// and processinfo adds itself to NODE_OPTIONS of every process the test spawns. Worker threads
// inherit those flags, so every Pyodide worker a test starts (and every gitfunc process it spawns)
// loaded its JS through processinfo's module hooks too: measured ~0.2-0.5 s more CPU per worker,
// ~30% of the whole suite's CPU. processinfo only serves coverage and `tap --changed`, neither
// used here (coverage is disabled).
//
// This preload runs before the test file, starts it again as `node --import=tsx-main-thread.mjs
// <file>` (tsx, in its main thread only: see that file) without the processinfo import (through
// `env`, since processinfo's spawn hook would put it back into NODE_OPTIONS), keeps tap's
// environment (TAP_*), relays tap's IPC messages (timeouts) and signals, and exits as the child
// did. The test file is never loaded in this process: the preload does not return before its
// child has ended.
import { spawn } from 'node:child_process';

const PROCESSINFO = /\s*"?--(?:import|loader)=[^\s"]*@tapjs\/processinfo[^\s"]*"?/g;
const nodeOptions = (process.env.NODE_OPTIONS ?? '').replace(PROCESSINFO, '').trim();
const TSX_MAIN_THREAD = new URL('./tsx-main-thread.mjs', import.meta.url).href;
const withoutProcessinfo = nodeOptions === '' ? ['-u', 'NODE_OPTIONS'] : [`NODE_OPTIONS=${nodeOptions}`];

const child = spawn('env', [...withoutProcessinfo, process.execPath, `--import=${TSX_MAIN_THREAD}`, ...process.argv.slice(1)], {
  stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
});
child.on('message', (message) => process.send?.(message));
process.on('message', (message) => {
  if (child.connected) child.send(message);
});
const SIGNALS = ['SIGALRM', 'SIGTERM', 'SIGINT', 'SIGHUP'];
for (const signal of SIGNALS) process.on(signal, () => child.kill(signal));

const [code, signal] = await new Promise((resolve) => child.once('exit', (...ended) => resolve(ended)));
process.disconnect?.();
if (signal !== null) {
  for (const name of SIGNALS) process.removeAllListeners(name);
  process.kill(process.pid, signal);
}
process.exit(code ?? 1);
