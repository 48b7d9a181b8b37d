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

test("the README's stream example is a test of test/stream.test.js, verbatim", async () => {
  const readme = await read('../README.md');
  const m = /<!-- begin test\/stream\.test\.js example -->\n```js\n([\s\S]*?)```\n<!-- end test\/stream\.test\.js example -->/.exec(readme);
  assert.ok(m, 'README.md has no block between <!-- begin/end test/stream.test.js example --> markers');
  assert.ok((await read('./stream.test.js')).includes(`\n\n${m[1]}\n`), "README.md's stream example is not a test of test/stream.test.js: copy the test into the README");
});
