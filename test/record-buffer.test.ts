// Records waiting to be written: only what trimming would keep, in write order.
import t from 'tap';
import { RecordBuffer } from '../src/tasks/record-buffer.js';
import type { TaskRecord } from '../src/model/task-record.js';

function record(id: string, originId: string, status: TaskRecord['status'] = 'success', origin: TaskRecord['origin'] = 'syncAPI'): TaskRecord {
  return { id, funcId: 'a__b.c', origin, originId, kwargs: {}, commit: 'c', triggerTime: 0, attempt: 1, status };
}

const ids = (records: TaskRecord[]): string[] => records.map((r) => r.id);

t.test('holds the newest `keep` finished records per API, oldest first', async (t) => {
  const buffer = new RecordBuffer(() => 2);
  for (const [id, api] of [['1', 'a'], ['2', 'b'], ['3', 'a'], ['4', 'a'], ['5', 'b'], ['6', 'a']]) buffer.add(record(id!, api!));
  t.equal(buffer.added, 6);
  const { records, origins } = buffer.drain();
  t.same(ids(records), ['4', '6', '2', '5']);
  t.same(origins, [{ origin: 'syncAPI', originId: 'a' }, { origin: 'syncAPI', originId: 'b' }]);
  t.same(buffer.drain(), { records: [], origins: [] }, 'empty after a drain');
  t.equal(buffer.added, 0);
});

t.test('the keep count is per origin kind', async (t) => {
  const buffer = new RecordBuffer((origin) => (origin === 'cronJob' ? 2 : 1));
  for (const id of ['1', '2', '3']) buffer.add(record(id, 'x'));
  for (const id of ['4', '5', '6']) buffer.add(record(id, 'x', 'success', 'cronJob'));
  t.same(ids(buffer.drain().records), ['3', '5', '6']);
});

t.test('running records are always written, before the finished ones', async (t) => {
  const buffer = new RecordBuffer(() => 1);
  buffer.add(record('run', 'job', 'running', 'cronJob'));
  buffer.add(record('old', 'job', 'success', 'cronJob'));
  buffer.add(record('still', 'job', 'running', 'cronJob'));
  buffer.add(record('run', 'job', 'failure', 'cronJob'));
  const { records } = buffer.drain();
  t.same(ids(records), ['run', 'still', 'run']);
  t.same(records.map((r) => r.status), ['running', 'running', 'failure'], "a run's final record comes after its running one");
});
