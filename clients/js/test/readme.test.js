// The README's example is test/readme-example.test.js, byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

const read = (p) => readFile(new URL(p, import.meta.url), 'utf8');

test('the README example is the same code as test/readme-example.test.js', async () => {
  const readme = await read('../README.md');
  const m = /<!-- begin test\/readme-example\.test\.js -->\n```js\n([\s\S]*?)```\n<!-- end test\/readme-example\.test\.js -->/.exec(readme);
  assert.ok(m, 'README.md has no block between <!-- begin/end test/readme-example.test.js --> markers');
  assert.equal(m[1], await read('./readme-example.test.js'), 'README.md and test/readme-example.test.js differ: copy the file into the README');
});
