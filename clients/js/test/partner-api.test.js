// The app's side: the journal of Partner API requests, faults on the
// Partner API, and scoped and revoked keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { BullseyeMockError } from 'bullseye-mock';
import { useMock } from 'bullseye-mock/testing';

const mock = useMock({ resetEach: true });

// The code under test: registers its webhook, retrying a 5xx once.
async function registerWebhook(partner, url) {
  const update = { url, secret: 'whsec_app', enabled: true };
  try {
    return await partner.updateIdentificationWebhook(update);
  } catch (err) {
    if (!(err instanceof BullseyeMockError) || err.status < 500) throw err;
    return partner.updateIdentificationWebhook(update);
  }
}

test('a 503 fault once: the app retries, and the journal shows both PUTs', async () => {
  const { client } = mock;
  const fault = await client.addFault({ method: 'PUT', path: '/api/v1/partner/webhooks/*', status: 503, times: 1 });
  assert.equal(fault.id, 'flt_1');
  assert.equal(fault.spent, false);

  const out = await registerWebhook(client.partner, 'https://app.example/webhooks');
  assert.deepEqual(out.identification, { url: 'https://app.example/webhooks', enabled: true, hasSecret: true });

  const ok = await client.waitRequests(
    { method: 'PUT', path: '/api/v1/partner/webhooks/identification', status: '2xx', has: ['secret', 'url'] },
    { timeout: '5s' },
  );
  assert.equal(ok.count, 1);
  assert.deepEqual(JSON.parse(ok.requests[0].body), { url: 'https://app.example/webhooks', secret: 'whsec_app', enabled: true });

  const both = await client.requests({ method: 'PUT', path: '/api/v1/partner/webhooks/identification' });
  assert.equal(both.total, 2);
  // Newest first: the success, then the faulted one.
  assert.deepEqual(both.requests.map((r) => r.status), [200, 503]);
  assert.equal(both.requests[1].fault, 'flt_1');
  assert.match(both.requests[0].headers['X-Partner-Api-Key'][0], /^\*+-key$/);

  const withBody = await client.requests({ method: 'PUT', body: { enabled: true }, status: '2xx' });
  assert.equal(withBody.total, 1);

  const after = await client.fault('flt_1');
  assert.equal(after.fired, 1);
  assert.equal(after.spent, true);
});

test('a fault answers with the vendor error JSON and Retry-After', async () => {
  const { client } = mock;
  await client.addFault({ method: 'GET', path: '/api/v1/partner/billing', status: 429, retryAfter: 7, times: 1 });
  await assert.rejects(client.partner.billing(), (err) => {
    assert.ok(err instanceof BullseyeMockError);
    assert.equal(err.status, 429);
    assert.equal(err.code, 'TooManyRequests');
    assert.equal(err.details.fault, 'flt_1');
    assert.equal(err.headers['retry-after'], '7');
    assert.ok(err.headers['x-ratelimit-limit']);
    return true;
  });
  const billing = await client.partner.billing();
  assert.equal(billing.billingMode, 'credit_pool');
});

test('a closed connection is an error with status 0, journaled as status 0', async () => {
  const { client } = mock;
  const f = await client.addFault({ path: '/api/v1/partner/webhooks', close: true, times: 1 });
  await assert.rejects(client.partner.webhooks(), (err) => {
    assert.ok(err instanceof BullseyeMockError);
    assert.equal(err.status, 0);
    assert.equal(err.code, 'NetworkError');
    return true;
  });
  // The journal's status filter refuses "0", so match on the path.
  const { requests } = await client.waitRequests({ path: '/api/v1/partner/webhooks' }, { timeout: '5s' });
  assert.equal(requests[0].status, 0);
  assert.equal(requests[0].fault, f.id);
});

test('faults: list, delete one, clear, and a latency fault', async () => {
  const { client } = mock;
  await client.addFault({ path: '/api/v1/**', status: 500, share: '50%' });
  await client.addFault({ path: '/api/v1/partner/organizations', latency: 20, times: 1 });
  const { faults } = await client.faults();
  assert.deepEqual(faults.map((f) => f.id), ['flt_1', 'flt_2']);
  assert.equal(faults[1].latency, '20ms');
  const removed = await client.deleteFault('flt_1');
  assert.equal(removed.id, 'flt_1');

  const t0 = Date.now();
  const orgs = await client.partner.organizations({ pageSize: 2 });
  assert.ok(Date.now() - t0 >= 20);
  assert.equal(orgs.pageSize, 2);
  assert.deepEqual(await client.clearFaults(), { removed: 1 });
  assert.deepEqual((await client.faults()).faults, []);
});

test('a read-only key gets 403 on PUT; a revoked key gets 401', async () => {
  const { client } = mock;
  const key = await client.addKey({ apiKey: 'app-readonly', scopes: ['read'] });
  assert.deepEqual(key, { apiKey: 'app-readonly', partnerId: mock.partnerId, scopes: ['read'], primary: false });
  const ro = client.partnerFor('app-readonly');
  assert.ok((await ro.webhooks()).identification);
  await assert.rejects(ro.updateIdentificationWebhook({ enabled: false }), (err) => {
    assert.equal(err.status, 403);
    assert.equal(err.code, 'Forbidden');
    assert.deepEqual(err.details, { requiredScope: 'write', scopes: ['read'] });
    return true;
  });
  const { keys } = await client.keys();
  assert.ok(keys.some((k) => k.apiKey === 'app-readonly'));
  assert.ok(keys.some((k) => k.primary && k.apiKey === mock.apiKey));

  assert.deepEqual(await client.revokeKey('app-readonly'), { revoked: true, apiKey: 'app-readonly', partnerId: mock.partnerId });
  await assert.rejects(ro.webhooks(), { status: 401, code: 'Unauthorized' });
  const journal = await client.requests({ apiKey: 'app-readonly' });
  assert.deepEqual(journal.requests.map((r) => r.status), [401, 403, 200]);
});

test('organizations and credits through the Partner API', async () => {
  const { partner } = mock.client;
  const { organization } = await partner.createOrganization({ name: 'Globex', externalId: 'cust_42', tier: 'paid' });
  assert.equal(organization.externalId, 'cust_42');
  assert.equal((await partner.organization(organization.id)).organization.name, 'Globex');
  const found = await partner.organizations({ externalId: 'cust_42' });
  assert.equal(found.total, 1);
  const { allocation } = await partner.setCredits(organization.id, { credits: 500, notes: 'trial' });
  assert.equal(allocation.creditsAllocated, 500);
  await assert.rejects(partner.createOrganization({ name: 'Again', externalId: 'cust_42' }), { status: 409, code: 'Conflict' });
  await assert.rejects(partner.setCredits(organization.id, { credits: 10_000_000 }), { status: 422, code: 'UnprocessableEntity' });
});

test('billing webhook, and an unknown webhook type is a 404', async () => {
  const { client } = mock;
  const out = await client.partner.updateWebhook('billing', { url: client.sinkUrl('billing'), secret: 's', enabled: true });
  assert.equal(out.billing.enabled, true);
  assert.equal((await client.partner.webhooks()).billing.hasSecret, true);
  await assert.rejects(client.partner.updateWebhook('payments', { enabled: true }), (err) => {
    // README: 404 for "no such webhook type" (the OpenAPI summary of the
    // route says 400; the server answers 404).
    assert.equal(err.status, 404);
    assert.equal(err.code, 'NotFound');
    assert.deepEqual(err.details, { type: 'payments' });
    assert.match(err.body.message, /use identification or billing/);
    return true;
  });
});
