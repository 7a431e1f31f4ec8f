// The start turns of a pool's first workers (runtime/snapshot/start-turns.cts): a turn opens
// when an earlier start ends, as many at once as the gate allows, all open once the first
// revision is loaded, and a start whose earlier one never ends (its worker died starting) goes
// ahead after a bounded wait.
import t from 'tap';
import startTurns from '../src/runtime/snapshot/start-turns.cjs';

const { endTurn, openAllTurns, openStartTurns, waitForTurn } = startTurns;

t.test('one at a time: the second turn opens when the first start ends, the third when the second does', async (t) => {
  const gate = openStartTurns(1);
  const opened: number[] = [];
  await waitForTurn({ gate, turn: 0 });
  const second = waitForTurn({ gate, turn: 1 }).then(() => opened.push(1));
  const third = waitForTurn({ gate, turn: 2 }).then(() => opened.push(2));
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.same(opened, [], 'nothing opens while the first start runs');
  endTurn({ gate, turn: 0 });
  await second;
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.same(opened, [1], 'only the next turn opened');
  endTurn({ gate, turn: 1 });
  await third;
  t.same(opened, [1, 2]);
});

t.test('two at a time: the first two turns are open at once', async (t) => {
  const gate = openStartTurns(2);
  const started = Date.now();
  await Promise.all([waitForTurn({ gate, turn: 0 }), waitForTurn({ gate, turn: 1 })]);
  t.ok(Date.now() - started < 100, 'neither waited');
});

t.test('a start whose earlier one never ends goes ahead within about a second', async (t) => {
  const gate = openStartTurns(1);
  const started = Date.now();
  await waitForTurn({ gate, turn: 1 });
  const waited = Date.now() - started;
  t.ok(waited >= 900 && waited < 3000, `waited ${waited} ms`);
});

t.test('once every turn is opened (the first revision is loaded), the starts still waiting go ahead together', async (t) => {
  const gate = openStartTurns(1);
  const waiting = [1, 2, 3].map((turn) => waitForTurn({ gate, turn }));
  const started = Date.now();
  openAllTurns(gate);
  await Promise.all(waiting);
  t.ok(Date.now() - started < 500, 'none waited for an earlier start');
  await waitForTurn({ gate, turn: 7 });
  t.ok(Date.now() - started < 500, 'nor does a later turn');
});

t.test('no turn: no wait', async (t) => {
  const started = Date.now();
  await waitForTurn(undefined);
  endTurn(undefined);
  t.ok(Date.now() - started < 50);
});
