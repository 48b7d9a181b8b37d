// The explicit table of the mock's HTTP operations and the client methods
// that call them: "METHOD /path/{param}" (as the served OpenAPI document
// spells it) -> the method's name on a Client ("partner.x" is a method of
// client.partner, a PartnerClient).
//
// test/coverage.test.js compares this table both ways against the served
// document (GET /_mock/openapi.json): an operation of the document without
// a row here, or a row naming an operation the document lacks, fails it.
// Every client method that makes a request goes through its row (the
// request helper refuses an operation that has none), and the same test
// checks that each method requests the path of its row.

/** @type {ReadonlyArray<readonly [method: string, path: string, name: string]>} */
export const OPERATIONS = Object.freeze([
  // Operations: health, metrics, this document, the inspector.
  ['GET', '/healthz', 'health'],
  ['HEAD', '/healthz', 'ready'],
  ['GET', '/metrics', 'metrics'],
  ['GET', '/_mock/openapi.json', 'openapi'],
  ['GET', '/_mock/ui', 'ui'],
  ['GET', '/_mock/ui/{file}', 'uiFile'],

  // Control API.
  ['GET', '/_mock/partners', 'partners'],
  ['POST', '/_mock/events', 'trigger'],
  ['GET', '/_mock/deliveries', 'deliveries'],
  ['GET', '/_mock/deliveries/wait', 'waitAll'],
  ['GET', '/_mock/deliveries/{id}', 'delivery'],
  ['GET', '/_mock/deliveries/{id}/wait', 'waitForDelivery'],
  ['POST', '/_mock/deliveries/{id}/redeliver', 'redeliver'],
  ['POST', '/_mock/reset', 'reset'],
  ['GET', '/_mock/clock', 'clock'],
  ['POST', '/_mock/clock/advance', 'advanceClock'],
  ['POST', '/_mock/scenarios/runs', 'startScenario'],
  ['GET', '/_mock/scenarios/runs', 'scenarioRuns'],
  ['GET', '/_mock/scenarios/runs/{id}', 'scenarioRun'],
  ['GET', '/_mock/scenarios/runs/{id}/wait', 'waitForScenarioRun'],
  ['GET', '/_mock/requests', 'requests'],
  ['GET', '/_mock/logs', 'attemptLog'],
  ['GET', '/_mock/requests/wait', 'waitRequests'],
  ['POST', '/_mock/faults', 'addFault'],
  ['GET', '/_mock/faults', 'faults'],
  ['DELETE', '/_mock/faults', 'clearFaults'],
  ['GET', '/_mock/faults/{id}', 'fault'],
  ['DELETE', '/_mock/faults/{id}', 'deleteFault'],
  ['POST', '/_mock/keys', 'addKey'],
  ['GET', '/_mock/keys', 'keys'],
  ['DELETE', '/_mock/keys/{apiKey}', 'revokeKey'],
  ['GET', '/_mock/traffic', 'traffic'],
  ['GET', '/_mock/traffic.svg', 'trafficSvg'],
  ['GET', '/_mock/stream', 'stream'], // Server-Sent Events: an EventStream

  // The built-in sink.
  ['GET', '/_mock/sink', 'sinks'],
  ['PUT', '/_mock/sink/{name}', 'configureSink'],
  ['GET', '/_mock/sink/{name}', 'sink'],
  ['DELETE', '/_mock/sink/{name}', 'deleteSink'],
  ['POST', '/_mock/sink/{name}', 'postToSink'],
  ['GET', '/_mock/sink/{name}/requests', 'sinkRequests'],

  // The Partner API, as an app calls it (client.partner).
  ['GET', '/api/v1/partner/webhooks', 'partner.webhooks'],
  ['PUT', '/api/v1/partner/webhooks/identification', 'partner.updateIdentificationWebhook'],
  ['PUT', '/api/v1/partner/webhooks/billing', 'partner.updateBillingWebhook'],
  ['PUT', '/api/v1/partner/webhooks/{type}', 'partner.updateWebhook'],
  ['POST', '/api/v1/partner/webhooks/test', 'partner.testWebhook'],
  ['GET', '/api/v1/partner/webhooks/logs', 'partner.logs'],
  ['GET', '/api/v1/partner/organizations', 'partner.organizations'],
  ['POST', '/api/v1/partner/organizations', 'partner.createOrganization'],
  ['GET', '/api/v1/partner/organizations/{id}', 'partner.organization'],
  ['PUT', '/api/v1/partner/organizations/{id}/credits', 'partner.setCredits'],
  ['GET', '/api/v1/partner/billing', 'partner.billing'],
].map((row) => Object.freeze(row)));

// Public methods that make no request of their own, or that compose the
// table's operations (so they have no row). The coverage test fails on a
// public method that is neither in the table nor here.
export const CONVENIENCE = Object.freeze({
  client: Object.freeze([
    'sinkUrl', // the URL of a sink, to configure as a webhook URL
    'inspectorUrl', // a link to the inspector's page of a view or item
    'waitForSinkRequests', // sinkRequests with atLeast, answering the requests
    'advanceToNextDue', // advanceClock({toNextDue: true})
    'advanceBy', // advanceClock({by})
    'setClock', // advanceClock({to})
    'startScenarioFile', // startScenario with a file's contents and name
    'runScenario', // startScenario, then waitForScenarioRun
    'scenarioReport', // waitForScenarioRun, answering the report
    'partnerFor', // a PartnerClient with another key
  ]),
  partner: Object.freeze([]),
});

/** "METHOD /path" of a row. */
export function operationKey(method, path) {
  return `${method.toUpperCase()} ${path}`;
}
