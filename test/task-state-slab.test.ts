// Per-call shared state carved from large buffers: slots are zeroed, reused, and never shared
// by two calls at once.
import t from 'tap';
import { TaskStateSlab } from '../src/runtime/task-state-slab.js';

t.test('a slot is handed out zeroed and reused after release', async (t) => {
  const slab = new TaskStateSlab();
  const first = slab.acquire();
  t.same([...first.state], [0, 0]);
  first.state[0] = 2;
  first.state[1] = 7;
  slab.release(first);
  const again = slab.acquire();
  t.equal(again.offset, first.offset, 'the released slot is reused');
  t.same([...again.state], [0, 0], 'and zeroed');
});

t.test('slots in use never overlap, across more than one buffer', async (t) => {
  const slab = new TaskStateSlab();
  const slots = Array.from({ length: 2500 }, () => slab.acquire());
  const places = new Set(slots.map((slot) => `${slots.findIndex((other) => other.buffer === slot.buffer)}:${slot.offset}`));
  t.equal(places.size, slots.length);
  t.equal(new Set(slots.map((slot) => slot.buffer)).size, 3, 'grows a buffer at a time');
  slots[1]!.state[0] = 5;
  t.same(slots.filter((slot) => slot.state[0] === 5).length, 1, 'a write shows in one slot only');
});
