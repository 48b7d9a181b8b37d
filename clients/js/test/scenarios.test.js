// Scenario runs uploaded to the running mock: upload, list, get, wait, report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { useMock } from 'bullseye-mock/testing';

const mock = useMock();

// A scenario run on a served mock sends to the file's webhook URL: here,
// one of the mock's own sinks, configured to fail twice.
const flaky = (url) => `name: flaky sink
clock: manual
webhooks:
  identification: {url: "${url}", secret: whsec_example}
steps:
  - send: {type: visitor.identified}
  - wait: settled
  - expect:
      state: delivered
      statuses: [500, 500, 200]
      offsets: [0s, 1m, 6m]
`;

test('upload a YAML file, wait for the run, read its report', async () => {
  const { client } = mock;
  await client.configureSink('scenario', { statuses: [500, 500, 200] });
  const started = await client.startScenario(flaky(client.sinkUrl('scenario')), { file: 'flaky.yaml' });
  assert.match(started.id, /^run-\d+$/);
  assert.equal(started.file, 'flaky.yaml');
  assert.equal(started.state, 'running');

  const run = await client.waitForScenarioRun(started.id, { timeout: '10s' });
  assert.equal(run.state, 'passed', JSON.stringify(run.report));
  assert.equal(run.report.passed, true);
  assert.equal(run.report.deliveries, 1);
  assert.equal(run.report.mockTime, '6m0s');
  assert.ok(run.report.expectations.every((e) => e.held));

  assert.deepEqual(await client.scenarioReport(started.id), run.report);
  assert.equal((await client.scenarioRun(started.id)).state, 'passed');
  const { runs } = await client.scenarioRuns();
  assert.ok(runs.some((r) => r.id === started.id && r.report === undefined));
});

test('a failed expectation: the run fails and says how', async () => {
  const { client } = mock;
  await client.configureSink('always-down', { statuses: [503] });
  const run = await client.runScenario(flaky(client.sinkUrl('always-down')), { file: 'down.yaml', timeout: '10s' });
  assert.equal(run.state, 'failed');
  const [held] = run.report.expectations;
  assert.equal(held.held, false);
  assert.match(held.message, /delivery 1: failed, want delivered/);
  assert.match(held.message, /\+0s, \+1m0s, \+6m0s, \+36m0s/);
});

test('a scenario as a JSON object, and from a file on disk', async () => {
  const { client } = mock;
  await client.configureSink('json');
  const scenario = {
    name: 'json happy path',
    webhooks: { identification: { url: client.sinkUrl('json'), secret: 'whsec_json' } },
    steps: [{ send: { type: 'visitor.identified', count: 2 } }, { wait: 'settled' }, { expect: { states: { delivered: 2 } } }],
  };
  assert.equal((await client.runScenario(scenario, { timeout: '10s' })).state, 'passed');

  const dir = await mkdtemp(join(tmpdir(), 'bullseye-mock-js-'));
  try {
    const path = join(dir, 'happy.yaml');
    await writeFile(path, JSON.stringify(scenario));
    const started = await client.startScenarioFile(path);
    assert.equal(started.file, 'happy.yaml');
    assert.equal((await client.waitForScenarioRun(started.id, { timeout: '10s' })).state, 'passed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a bad file is a 400 naming file, line and column; nothing runs', async () => {
  const { client } = mock;
  const before = (await client.scenarioRuns()).runs.length;
  const bad = 'name: bad\nsteps:\n  - send: {type: visitor.identified, faults: [{signature: bogus}]}\n';
  await assert.rejects(client.startScenario(bad, { file: 'bad.yaml' }), (err) => {
    assert.equal(err.status, 400);
    assert.equal(err.code, 'BadRequest');
    assert.deepEqual(err.details, { file: 'bad.yaml' });
    assert.match(err.body.message, /^bad\.yaml:3:\d+: unknown signature fault "bogus"/);
    return true;
  });
  assert.equal((await client.scenarioRuns()).runs.length, before);
  await assert.rejects(client.scenarioRun('run-999'), { status: 404, code: 'NotFound' });
});
