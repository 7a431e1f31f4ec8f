// A "replica" in its own process for test/redis-queue.test.ts: claims one async task from the
// BullMQ queue under the prefix given, says which on stdout, then holds it (renewing its lock)
// until the test kills it with SIGKILL. Arguments: Redis URL, key prefix, upload root, lock ms.
import { createLogger } from '../../src/log.js';
import { BullmqAsyncQueue } from '../../src/redis/bullmq-async-queue.js';
import { RedisTaskRecords } from '../../src/redis/redis-task-records.js';
import { Redis } from 'ioredis';

const [redisUrl, keyPrefix, uploadRoot, lockMs] = process.argv.slice(2) as [string, string, string, string];
const redis = new Redis(redisUrl);
const queue = new BullmqAsyncQueue({
  redisUrl,
  keyPrefix,
  records: new RedisTaskRecords(redis, keyPrefix),
  logger: createLogger('silent'),
  uploadRoot,
  lockMs: Number(lockMs),
});
for (;;) {
  const [task] = await queue.claim(1, Date.now(), 'h'.repeat(40));
  if (task !== undefined) {
    process.stdout.write(`${JSON.stringify({ id: task.record.id, attempt: task.record.attempt })}\n`);
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
}
// Held until killed: the lock renewal keeps it this replica's.
setInterval(() => undefined, 60_000);
