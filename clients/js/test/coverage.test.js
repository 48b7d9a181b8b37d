// The client covers the served OpenAPI document, operation for operation:
// the explicit table in operations.js is compared both ways against
// GET /_mock/openapi.json, every row names a method that exists, every
// public method is a row (or a declared convenience), and each method
// requests the method and path of its row.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Client, CONVENIENCE, OPERATIONS, PartnerClient, operationKey } from 'bullseye-mock';
import { useMock } from 'bullseye-mock/testing';

const mock = useMock();

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

function documentOperations(doc) {
  const out = new Set();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const m of HTTP_METHODS) if (item[m]) out.add(operationKey(m, path));
  }
  return out;
}

const tableKeys = () => new Set(OPERATIONS.map(([m, p]) => operationKey(m, p)));

test('the table and the served OpenAPI document name the same operations', async () => {
  const doc = await mock.client.openapi();
  const served = documentOperations(doc);
  const table = tableKeys();
  assert.equal(table.size, OPERATIONS.length, 'the table has a duplicate row');

  // Both ways: a documented operation without a method, and a method
  // naming an operation the document lacks.
  const noMethod = [...served].filter((k) => !table.has(k));
  const notServed = [...table].filter((k) => !served.has(k));
  assert.deepEqual(
    { noMethod, notServed },
    { noMethod: [], notServed: [] },
    `noMethod: operations of the served document without a client method (add a row to operations.js and a method): ${noMethod.join(', ') || 'none'}; ` +
      `notServed: client methods naming operations the served document lacks: ${notServed.join(', ') || 'none'}`,
  );
});

function resolve(client, name) {
  const parts = name.split('.');
  let owner = client;
  for (const p of parts.slice(0, -1)) owner = owner[p];
  return { owner, fn: owner?.[parts.at(-1)] };
}

function publicMethods(proto) {
  return Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor' && typeof Object.getOwnPropertyDescriptor(proto, n).value === 'function');
}

test('every row names a method; every method is a row or a declared convenience', () => {
  const client = new Client({ baseUrl: 'http://127.0.0.1:1' });
  for (const [m, p, name] of OPERATIONS) {
    assert.equal(typeof resolve(client, name).fn, 'function', `${m} ${p}: no method client.${name}`);
  }
  const rows = new Set(OPERATIONS.map(([, , name]) => name));
  for (const n of publicMethods(Client.prototype)) {
    assert.ok(rows.has(n) || CONVENIENCE.client.includes(n), `client.${n} is neither in the operations table nor a declared convenience`);
  }
  for (const n of publicMethods(PartnerClient.prototype)) {
    assert.ok(rows.has(`partner.${n}`) || CONVENIENCE.partner.includes(n), `client.partner.${n} is neither in the operations table nor a declared convenience`);
  }
  for (const n of CONVENIENCE.client) assert.equal(typeof client[n], 'function', `convenience client.${n} does not exist`);
});

// Arguments to call each method with (the rest take none).
const ARGS = {
  uiFile: ['app.js'],
  trigger: ['visitor.identified'],
  delivery: ['d1'],
  waitForDelivery: ['d1', { state: 'delivered', timeout: '1s' }],
  redeliver: ['d1'],
  advanceClock: [{ toNextDue: true }],
  startScenario: ['name: x\nsteps: []\n'],
  scenarioRun: ['run-1'],
  waitForScenarioRun: ['run-1'],
  fault: ['flt_1'],
  deleteFault: ['flt_1'],
  addFault: [{ path: '/api/v1/**', status: 503 }],
  revokeKey: ['some-key'],
  configureSink: ['s1', { statuses: [500] }],
  sink: ['s1'],
  deleteSink: ['s1'],
  postToSink: ['s1', { a: 1 }],
  sinkRequests: ['s1', { atLeast: 1 }],
  traffic: [{ maxP99: '200ms', minSuccess: 0.99 }],
  'partner.updateIdentificationWebhook': [{ enabled: true }],
  'partner.updateBillingWebhook': [{ enabled: true }],
  'partner.updateWebhook': ['payments', { enabled: true }],
  'partner.organization': ['o1'],
  'partner.createOrganization': [{ name: 'x' }],
  'partner.setCredits': ['o1', { credits: 1 }],
};

test('each method requests the method and path of its row', async () => {
  const seen = [];
  const fakeFetch = async (url, init) => {
    seen.push({ method: init.method, url: new URL(url) });
    const body = { timedOut: false, delivery: {}, run: {}, requests: [], count: 0, received: true, partners: [{ id: 'p', apiKey: 'k' }] };
    return new Response(init.method === 'HEAD' ? null : JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const client = new Client({ baseUrl: 'http://mock.test', apiKey: 'k', fetch: fakeFetch });
  for (const [method, path, name] of OPERATIONS) {
    seen.length = 0;
    const { owner, fn } = resolve(client, name);
    await fn.apply(owner, ARGS[name] ?? []);
    assert.equal(seen.length, 1, `${name} made ${seen.length} requests`);
    const re = new RegExp(`^${path.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '[^/]+')}$`);
    assert.equal(seen[0].method, method, `${name}`);
    assert.match(seen[0].url.pathname, re, `${name} requested ${seen[0].url.pathname}, its row says ${path}`);
  }
});

test('the traffic report', async () => {
  const { client } = mock;
  await client.partner.updateIdentificationWebhook({ url: client.sinkUrl('traffic'), secret: 'whsec_t', enabled: true });
  const { deliveryIds } = await client.trigger('visitor.identified', { count: 3 });
  await client.waitAll({ timeout: '5s' });
  assert.equal(deliveryIds.length, 3);
  const report = await client.traffic({ maxP99: '10s', minSuccess: 0.99 });
  assert.equal(report.requests, 3);
  assert.equal(report.success, 1);
  assert.equal(report.statusCodes['200'], 3);
  for (const k of ['p50', 'p90', 'p95', 'p99', 'max', 'mean']) assert.equal(typeof report.latencyMs[k], 'number', k);
  assert.equal(report.pass, true);
  assert.match(await client.trafficSvg(), /<svg[\s>]/);
});
