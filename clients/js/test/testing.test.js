// The test helpers: startMock's options, binary lookup, start-up errors,
// stop, and useMock's handle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

import { Client } from 'bullseye-mock';
import { findBinary, startMock, useMock } from 'bullseye-mock/testing';

const bin = process.env.BULLSEYE_MOCK_BIN;

test('startMock: a manual clock by default, and a seed and start time', async () => {
  const mock = await startMock({ seed: 7, startTime: '2025-01-15T10:30:00Z' });
  try {
    assert.match(mock.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(mock.client instanceof Client);
    assert.equal(mock.apiKey, 'bullseye-mock-key');
    assert.deepEqual(await mock.client.clock(), { now: '2025-01-15T10:30:00Z', manual: true, nextDue: null });
    assert.match(mock.stdout(), /^bullseye-mock listening on http/);
  } finally {
    assert.deepEqual(await mock.stop(), { code: 0, signal: null });
  }
  // Stopping twice is harmless.
  assert.deepEqual(await mock.stop(), { code: 0, signal: null });
});

test('startMock({clock: "scaled"}): advancing the clock is a 409', async () => {
  const mock = await startMock({ clock: 'scaled', timeScale: 600 });
  try {
    assert.equal((await mock.client.clock()).manual, false);
    await assert.rejects(mock.client.advanceToNextDue(), (err) => {
      assert.equal(err.status, 409);
      assert.equal(err.code, 'Conflict');
      assert.match(err.body.message, /--clock manual/);
      return true;
    });
  } finally {
    await mock.stop();
  }
});

test('startMock({adminToken, apiKeys}): the client sends the token and the first key', async () => {
  const mock = await startMock({ adminToken: 's3cret', apiKeys: ['key-a', 'key-b'] });
  try {
    assert.equal(mock.apiKey, 'key-a');
    const { partners } = await mock.client.partners();
    assert.deepEqual(partners.map((p) => p.apiKey), ['key-a', 'key-b']);
    assert.ok(await mock.client.partner.webhooks());
    const anonymous = new Client({ baseUrl: mock.url });
    await assert.rejects(anonymous.clock(), { status: 401, code: 'Unauthorized' });
    const wrong = new Client({ baseUrl: mock.url, adminToken: 'nope' });
    await assert.rejects(wrong.clock(), (err) => err.status === 401 && err.body.message === 'invalid admin token');
    // Open even with a token: the document, health and metrics.
    assert.equal((await anonymous.openapi()).openapi.startsWith('3.'), true);
    assert.deepEqual(await anonymous.health(), { status: 'ok' });
    assert.match(await anonymous.metrics(), /bullseye_mock_deliveries_sent_total/);
    // A client without apiKey asks the mock for its first partner's key.
    const lazy = new Client({ baseUrl: mock.url, adminToken: 's3cret' });
    assert.ok((await lazy.partner.webhooks()).identification);
    const all = await mock.client.requests({ path: '/api/v1/partner/webhooks' });
    const withKeyA = await mock.client.requests({ path: '/api/v1/partner/webhooks', apiKey: 'key-a' });
    assert.equal(all.total, 2);
    assert.equal(withKeyA.total, 2);
  } finally {
    await mock.stop();
  }
});

test('a mock that cannot start: the error says why, with its stderr', async () => {
  await assert.rejects(startMock({ args: ['--workers=-5'] }), /exited \(status 2\) before it listened; stderr:\nbullseye-mock: --workers: workers must be at least 1, got -5/);
});

test('findBinary: the given path, else BULLSEYE_MOCK_BIN, else bullseye-mock on PATH', async (t) => {
  if (!bin) return t.skip('BULLSEYE_MOCK_BIN is not set');
  const saved = { bin: process.env.BULLSEYE_MOCK_BIN, path: process.env.PATH };
  const dir = await mkdtemp(join(tmpdir(), 'bullseye-mock-path-'));
  try {
    assert.equal(findBinary(), bin);
    assert.throws(() => findBinary('/elsewhere'), /\/elsewhere is not an executable file/);
    delete process.env.BULLSEYE_MOCK_BIN;
    process.env.PATH = dir;
    assert.equal(findBinary(bin), bin);
    assert.throws(() => findBinary(), /no binary to start: set BULLSEYE_MOCK_BIN, put bullseye-mock on PATH/);
    assert.throws(() => findBinary(join(dir, 'missing')), /is not an executable file/);
    await symlink(bin, join(dir, 'bullseye-mock'));
    process.env.PATH = [join(dir, 'empty'), dir].join(delimiter);
    assert.equal(findBinary(), join(dir, 'bullseye-mock'));
    process.env.BULLSEYE_MOCK_BIN = join(dir, 'missing');
    assert.throws(() => findBinary(), /BULLSEYE_MOCK_BIN=.*missing is not an executable file/);
  } finally {
    process.env.BULLSEYE_MOCK_BIN = saved.bin;
    process.env.PATH = saved.path;
    await rm(dir, { recursive: true, force: true });
  }
});

test('useMock: the handle is empty until the hook ran', () => {
  const hooks = [];
  const handle = useMock({ hooks: { before: (f) => hooks.push(['before', f]), after: (f) => hooks.push(['after', f]) } });
  assert.deepEqual(hooks.map(([name]) => name), ['before', 'after']);
  assert.throws(() => handle.client, /useMock\(\)\.client is read before the mock started/);
});

test('useMock with Jest-style hooks starts and stops a mock', async () => {
  const hooks = {};
  const handle = useMock({ hooks: { before: (f) => (hooks.before = f), after: (f) => (hooks.after = f), beforeEach: (f) => (hooks.each = f) }, resetEach: true });
  await hooks.before();
  try {
    await hooks.each();
    assert.equal((await handle.client.clock()).manual, true);
    assert.equal(handle.url, handle.mock.url);
  } finally {
    await hooks.after();
  }
  assert.equal(await handle.client.ready(), false);
});

function hasImage(name) {
  try {
    execFileSync('docker', ['image', 'inspect', name], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

test('startMock({docker: true}) runs the image', async (t) => {
  const image = process.env.BULLSEYE_MOCK_IMAGE ?? 'bullseye-mock';
  if (!hasImage(image)) return t.skip(`no ${image} image (docker build -t bullseye-mock .)`);
  const mock = await startMock({ docker: true, image });
  try {
    assert.equal((await mock.client.clock()).manual, true);
    await mock.client.partner.updateIdentificationWebhook({ url: mock.client.sinkUrl('docker'), secret: 'whsec_d', enabled: true });
    const { deliveryIds: [id] } = await mock.client.trigger('visitor.identified');
    assert.equal((await mock.client.waitForDelivery(id, { timeout: '10s' })).state, 'delivered');
    const [req] = await mock.client.waitForSinkRequests('docker', 1, { timeout: '5s' });
    assert.equal(req.signature, 'valid');
  } finally {
    await mock.stop();
  }
});
