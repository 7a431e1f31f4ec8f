import t from 'tap';
import { matchesSecret, secretDigest } from '../src/secret-compare.js';

t.test('only the secret itself matches its digest', async (t) => {
  const expected = secretDigest('s3cret-token');
  t.ok(matchesSecret('s3cret-token', expected));
  for (const guess of ['s3cret-toke', 's3cret-token ', 'S3CRET-TOKEN', '', 'x'.repeat(10_000)]) {
    t.notOk(matchesSecret(guess, expected), `refuses ${JSON.stringify(guess.slice(0, 20))}`);
  }
});

t.test('a missing or non-text guess never matches, not even an empty secret', async (t) => {
  const empty = secretDigest('');
  t.ok(matchesSecret('', empty), 'the empty string is the empty secret (callers refuse empty secrets themselves)');
  for (const guess of [undefined, null, 0, [''], { toString: () => '' }]) t.notOk(matchesSecret(guess, empty));
});
