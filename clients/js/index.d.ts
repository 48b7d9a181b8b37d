// Type declarations of bullseye-mock (hand-written; index.js is the code).

export { OPERATIONS, CONVENIENCE, operationKey } from './operations.js';

/** The key of the mock's first partner when started without --api-key. */
export const DEFAULT_API_KEY: 'bullseye-mock-key';

/** A Go duration ("90s", "1m30s", "250ms") or a number of milliseconds. */
export type Duration = string | number;
/** An RFC 3339 time (mock time, UTC). */
export type Time = string;

export type WebhookKind = 'identification' | 'billing';
export type EventType = 'visitor.identified' | 'credits.allocated' | 'credits.low' | 'credits.exhausted' | 'billing.period_closed';
export type DeliveryState = 'scheduled' | 'retrying' | 'ready' | 'in_flight' | 'delivered' | 'failed' | 'canceled';
export type AttemptStatus = 'delivered' | 'retrying' | 'failed' | 'canceled';
export type SignatureFault =
  | 'wrong_secret'
  | 'missing'
  | 'empty'
  | 'non_hex'
  | 'truncated'
  | 'uppercase'
  | 'other_bytes'
  | 'reserialized';
export type Scope = 'read' | 'write' | 'admin';
export type Headers = Record<string, string[]>;

/** The vendor's error JSON. */
export interface ErrorBody {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/**
 * A request the mock refused (status and the vendor's error JSON), or one
 * that got no answer (status 0, code "NetworkError" or "Timeout").
 */
export class BullseyeMockError extends Error {
  name: 'BullseyeMockError' | 'WaitTimeoutError';
  /** HTTP status; 0 when no answer came. */
  status: number;
  /** The error JSON's code: BadRequest, NotFound, Conflict, ServiceUnavailable, ... */
  code?: string;
  /** The error JSON's details, e.g. {field: "faults[0].signature"} or {parameter: "timeout"}. */
  details: Record<string, any>;
  /** The whole error JSON (or the body as text when it was not JSON). */
  body?: ErrorBody | any;
  /** The answer's headers, lower-case names (e.g. "retry-after", "x-ratelimit-remaining"). */
  headers: Record<string, string>;
  method?: string;
  url?: string;
  constructor(message: string, init?: { status?: number; code?: string; details?: Record<string, unknown>; body?: unknown; headers?: Record<string, string>; method?: string; url?: string; cause?: unknown });
}

/** A long-poll that answered "timedOut": true (status 200, code "WaitTimedOut"). */
export class WaitTimeoutError extends BullseyeMockError {
  name: 'WaitTimeoutError';
  /** The wait's answer: the state at the deadline. */
  result: any;
  /** The mock began to shut down and answered early. */
  stopping: boolean;
}

/** A Duration as the mock reads it: numbers become "Nms". */
export function duration(v: Duration): string;
export function duration(v: undefined | null): undefined;
/** Milliseconds of a Go duration or a number; NaN when unreadable. */
export function durationMs(v: Duration): number;

export interface Page {
  total: number;
  page: number;
  pageSize: number;
}
export interface Paging {
  page?: number;
  pageSize?: number;
}

// ---- The Partner API ----

export interface Webhook {
  url: string;
  enabled: boolean;
  hasSecret: boolean;
}
/** A partial update: an absent field, or null, keeps its value; "" removes the URL or the secret. */
export interface WebhookUpdate {
  url?: string | null;
  secret?: string | null;
  enabled?: boolean | null;
}
export interface Organization {
  id: string;
  name: string;
  externalId?: string | null;
  status: 'active' | 'canceled' | 'suspended';
  tier: 'trial' | 'paid';
  credits: number;
  metadata?: Record<string, string>;
  createdAt: Time;
}
export interface NewOrganization {
  name: string;
  externalId?: string;
  status?: 'active' | 'canceled' | 'suspended';
  tier?: 'trial' | 'paid';
  credits?: number;
  metadata?: Record<string, string>;
}
export interface Allocation {
  id: string;
  partnerId: string;
  organizationId: string;
  creditsAllocated: number;
  creditsUsed: number;
  creditsAvailable: number;
  allocatedAt: Time;
}
/** A log entry: the vendor's seven fields, then the mock's own. */
export interface Attempt {
  id: string;
  type: WebhookKind;
  organizationId: string;
  status: AttemptStatus;
  statusCode: number;
  attemptedAt: Time;
  responseTimeMs: number;
  deliveryId?: string;
  attempt?: number;
  eventType?: EventType;
  url?: string;
  error?: string;
  nextAttemptAt?: Time;
}
export interface Billing {
  billingMode: 'credit_pool' | 'external' | 'usage_based';
  period: { start: Time; end: Time };
  creditPoolTotal: number;
  creditPoolUsed: number;
  creditPoolAvailable: number;
  pricingTiers: unknown[];
  [key: string]: unknown;
}

export interface PartnerClientOptions {
  /** The mock's base URL, e.g. http://127.0.0.1:8080 (without /api/v1). */
  baseUrl: string;
  /** X-Partner-API-Key; default "bullseye-mock-key"; a function is called once, on the first request. */
  apiKey?: string | (() => string | Promise<string>);
  fetch?: typeof fetch;
  /** Milliseconds before a request without an answer fails (default 30000). */
  requestTimeout?: number;
}

/** The Partner API (/api/v1) as an app calls it, with X-Partner-API-Key. */
export class PartnerClient {
  constructor(options: PartnerClientOptions);
  readonly baseUrl: string;
  /** GET /api/v1/partner/webhooks */
  webhooks(): Promise<{ identification: Webhook; billing: Webhook }>;
  /** PUT /api/v1/partner/webhooks/identification */
  updateIdentificationWebhook(update: WebhookUpdate): Promise<{ identification: Webhook }>;
  /** PUT /api/v1/partner/webhooks/billing */
  updateBillingWebhook(update: WebhookUpdate): Promise<{ billing: Webhook }>;
  /** PUT /api/v1/partner/webhooks/{type} (identification and billing go to their own routes). */
  updateWebhook(type: 'identification', update: WebhookUpdate): Promise<{ identification: Webhook }>;
  updateWebhook(type: 'billing', update: WebhookUpdate): Promise<{ billing: Webhook }>;
  updateWebhook(type: string, update: WebhookUpdate): Promise<Partial<Record<WebhookKind, Webhook>>>;
  /** POST /api/v1/partner/webhooks/test (default "identification"). */
  testWebhook(type?: WebhookKind): Promise<{ success: boolean; message: string; deliveryId: string }>;
  /** GET /api/v1/partner/webhooks/logs, newest first. */
  logs(filters?: Paging & { type?: WebhookKind; status?: AttemptStatus; organizationId?: string }): Promise<Page & { logs: Attempt[] }>;
  /** GET /api/v1/partner/organizations */
  organizations(filters?: Paging & { status?: Organization['status']; search?: string; externalId?: string }): Promise<Page & { organizations: Organization[] }>;
  /** POST /api/v1/partner/organizations (201) */
  createOrganization(org: NewOrganization): Promise<{ organization: Organization }>;
  /** GET /api/v1/partner/organizations/{id} */
  organization(id: string): Promise<{ organization: Organization }>;
  /** PUT /api/v1/partner/organizations/{id}/credits (422 past the credit pool) */
  setCredits(id: string, allocation: { credits: number; notes?: string }): Promise<{ allocation: Allocation }>;
  /** GET /api/v1/partner/billing */
  billing(): Promise<Billing>;
}

// ---- The control API ----

/** One fault of the one grammar (POST /_mock/events, a scenario's send step). */
export interface Fault {
  signature?: SignatureFault;
  /** "concurrent" (a copy at the same instant) or a Go duration (a copy that much later). */
  duplicate?: 'concurrent' | string | boolean;
  /** @deprecated write duplicate: DURATION */
  duplicateAfter?: string;
  /** A copy this long after the delivery was delivered. */
  replay?: string;
  /** 1-based numbers of the events it applies to. */
  events?: number[];
  /** A fraction (0.25) or a percentage ("25%") of the events, spread evenly. */
  share?: number | string;
}
/** A retry policy; absent fields keep the mock's (--retry-delays, --max-attempts, --timeout). */
export interface Policy {
  delays?: string[];
  attempts?: number;
  timeout?: string;
}
/** The body of POST /_mock/events (ops.Send), key for key. */
export interface Send {
  type: EventType;
  count?: number;
  /** "10/s", "30/m", "2/h", or "100 every 10s". */
  rate?: string;
  apiKey?: string;
  partnerId?: string;
  /** An organization's id or externalId. */
  organization?: string;
  /** @deprecated use organization */
  organizationId?: string;
  dialect?: 'partner' | 'integration';
  /** A JSON merge patch (RFC 7386) applied to every payload. */
  overrides?: Record<string, unknown>;
  faults?: Fault[];
  /** Mock time of the first attempt (a Date is sent as RFC 3339). */
  at?: Time | Date;
  /** Delay of the first attempt from now. */
  delay?: Duration;
  policy?: Policy;
  order?: 'creation' | 'reversed' | 'shuffled';
  sameVisitor?: boolean;
  jitter?: Duration;
  burst?: number;
  /** Create the deliveries although the webhook is disabled or has no URL (they are canceled); else a 400. */
  evenIfDisabled?: boolean;
}
export interface Triggered {
  deliveryIds: string[];
  partnerId: string;
}
export interface AttemptDetail extends Attempt {
  requestHeaders?: Headers;
  responseExcerpt?: string;
  /** When it was due: the previous attempt's nextAttemptAt (absent on the first). */
  scheduledAt?: Time;
}
export interface Delivery {
  id: string;
  partnerId: string;
  type: WebhookKind;
  eventType: EventType;
  organizationId: string;
  duplicateOf?: string;
  fault?: string;
  state: DeliveryState;
  nextAttemptAt?: Time;
  attempts: AttemptDetail[];
  /** The payload, when it is JSON (single delivery only). */
  payload?: any;
  /** The exact bytes signed (single delivery only). */
  payloadRaw?: string;
  /** What went on the wire when a fault changed the body. */
  sentRaw?: string;
  policy: { delays: string[]; attempts: number; timeout: string };
}
export interface DeliveryFilters {
  apiKey?: string;
  partnerId?: string;
  type?: WebhookKind;
  eventType?: EventType;
  organizationId?: string;
}
export interface WaitOptions {
  /** Real-time bound of the long-poll (default 30s, at most 5m). */
  timeout?: Duration;
  /** false: answer the state at the deadline instead of throwing WaitTimeoutError. Default true. */
  throwOnTimeout?: boolean;
}
export interface DeliveryWaitOptions extends WaitOptions {
  /** A state, comma-separated states, an array of them, or "final". */
  state?: DeliveryState | 'final' | string | Array<DeliveryState | 'final'>;
  /** At least this many attempts made. */
  attempts?: number;
}
export interface WaitAllResult {
  timedOut: boolean;
  stopping: boolean;
  waitedFor: number;
  pendingCount: number;
  /** The first 100 still pending, oldest first. */
  pending: string[];
}
export interface Clock {
  now: Time;
  manual: boolean;
  nextDue: Time | null;
}
export interface Advanced extends Clock {
  moved: boolean;
  advancedBy: string;
  /** false: a receiver still holds an attempt, or the move ran out of its 10 s. */
  idle: boolean;
}
export type Advance = { by: Duration } | { to: Time | Date } | { toNextDue: true };

export interface ScenarioRun {
  id: string;
  file: string;
  state: 'running' | 'passed' | 'failed' | 'error';
  startedAt: Time;
  finishedAt?: Time;
  /** The report of bullseye-mock run --report json, once finished. */
  report?: ScenarioReport;
  error?: string;
}
export interface ScenarioReport {
  name: string;
  file: string;
  passed: boolean;
  deliveries: number;
  mockTime: string;
  expectations: Array<{ line: number; column: number; held: boolean; message?: string; [key: string]: unknown }>;
  [key: string]: unknown;
}
export interface ScenarioOptions {
  /** The file's name in error positions and the report (default scenario.yaml). */
  file?: string;
  /** true: never move a manual clock (the test moves it). */
  leaveClock?: boolean;
  /** Default application/yaml for text and bytes, application/json for an object. */
  contentType?: string;
}

/** The filters of the journal (ops.RequestMatch). */
export interface RequestMatch {
  method?: string;
  /** A path pattern: * within a segment, ** for any segments. */
  path?: string;
  /** A status ("503", 503) or a class ("5xx"). */
  status?: string | number;
  apiKey?: string;
  partnerId?: string;
  since?: Time | Date;
  after?: number;
  /** Body fields that must be set (dotted for nested ones). */
  has?: string[] | string;
  /** JSON the request body must contain (an object is sent as JSON). */
  body?: unknown;
}
export interface JournalEntry {
  id: number;
  time: Time;
  realTime: Time;
  method: string;
  path: string;
  query: string;
  headers: Headers;
  partnerId?: string;
  body: string;
  bodyEncoding?: 'base64';
  bodyBytes: number;
  bodyTruncated: boolean;
  /** 0 when a fault closed the connection. */
  status: number;
  response: string;
  responseBytes: number;
  responseTruncated: boolean;
  latencyMs: number;
  fault?: string;
}
export interface WaitRequestsResult {
  timedOut: boolean;
  stopping: boolean;
  count: number;
  requests: JournalEntry[];
}
export interface APIFaultRequest {
  path: string;
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | '*';
  apiKey?: string;
  partnerId?: string;
  status?: number;
  retryAfter?: number;
  message?: string;
  latency?: Duration;
  close?: boolean;
  times?: number;
  share?: number | string;
}
export interface APIFault {
  id: string;
  method?: string;
  path: string;
  partnerId?: string;
  status?: number;
  retryAfter?: number;
  message?: string;
  latency?: string;
  close?: boolean;
  times?: number;
  share?: number;
  fired: number;
  matched: number;
  spent: boolean;
}
export interface Key {
  apiKey: string;
  partnerId: string;
  scopes: Scope[];
  primary: boolean;
}

export interface SinkConfig {
  secret?: string;
  statuses?: number[];
  /** Real time, at most 1m. */
  delay?: Duration;
  delayMax?: Duration;
  capacity?: number;
  failureRate?: number;
  failureStatus?: number;
  retryAfter?: number;
  rejectInvalidSignatures?: boolean;
  /** Note: the mock answers seeds beyond 2^53, which JSON.parse rounds. */
  seed?: number;
}
export interface Sink {
  name: string;
  hasSecret: boolean;
  statuses: number[];
  delay: string;
  delayMax?: string;
  capacity: number;
  received: number;
  kept: number;
  evicted: number;
  failureRate: number;
  failureStatus: number;
  retryAfter?: number;
  rejectInvalidSignatures: boolean;
  seed: number;
}
export interface SinkRequest {
  seq: number;
  receivedAt: Time;
  method: string;
  headers: Headers;
  body?: any;
  bodyRaw: string;
  deliveryId?: string;
  attempt?: number;
  signature: 'valid' | 'invalid' | 'missing' | 'unchecked';
  signatureError?: string;
  secretFrom?: 'sink' | 'webhook';
  status: number;
}
export interface SinkRequestsPage extends Page {
  requests: SinkRequest[];
  received: number;
  evicted: number;
  timedOut: boolean;
  stopping: boolean;
}
export interface SinkAnswer {
  status: number;
  received: boolean;
  seq: number;
  signature: SinkRequest['signature'];
}

/** Thresholds of GET /_mock/traffic, as query parameters. */
export interface TrafficThresholds {
  maxP50?: string;
  maxP90?: string;
  maxP95?: string;
  /** e.g. "200ms" */
  maxP99?: string;
  maxLatency?: string;
  /** e.g. 0.99 */
  minSuccess?: number;
  maxLate?: number;
  minRate?: number;
  [key: string]: string | number | boolean | undefined;
}
export interface TrafficLatency {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}
export interface TrafficClass {
  requests: number;
  rate: number;
  success: number;
  statusCodes: Record<string, number>;
  errors: Record<string, number>;
  latencyMs: TrafficLatency;
}
/** The load report of GET /_mock/traffic (milliseconds and rates of mock time). */
export interface TrafficReport extends TrafficClass {
  targetRate?: number;
  throughput: number;
  durationMs: number;
  waitMs: number;
  late: { count: number; afterMs: number; p99Ms: number; maxMs: number };
  canceled: number;
  deliveries: { delivered: number; failed: number; canceled: number };
  firstAttempts: TrafficClass;
  retries: TrafficClass;
  histogram: Array<{ fromMs: number; toMs: number; count: number }>;
  series: { start?: Time; bucketMs: number; points: Array<Record<string, number>> };
  /** With thresholds: each one's verdict, and whether all held. */
  thresholds?: Array<{ metric: string; op: string; limit: string; actual: string; pass: boolean }>;
  pass?: boolean;
  [key: string]: unknown;
}

// ---- The change stream (GET /_mock/stream) ----

/** The kinds of change the stream's events option chooses from (default all). */
export type StreamChangeName = 'delivery' | 'attempt' | 'sink' | 'request' | 'clock' | 'reset';
/** The names of the events a stream yields: the changes, and the stream's own (heartbeat only with heartbeats: true). */
export type StreamEventName = 'hello' | StreamChangeName | 'lost' | 'stopping' | 'end' | 'heartbeat';

/** A delivery created or changed state, as a row of the delivery list shows it (its attempts come as attempt events). */
export interface DeliveryChange {
  id: string;
  partnerId: string;
  type: WebhookKind;
  eventType: EventType;
  organizationId: string;
  duplicateOf?: string;
  fault?: string;
  state: DeliveryState;
  /** When the next attempt is due, while one is scheduled. */
  nextAttemptAt?: Time;
  attemptCount: number;
  /** The delivery's first event (also set when its creation was merged into a later change). */
  created?: boolean;
}
/** A request a sink recorded, without headers and body (sinkRequests() has them). */
export interface SinkEvent {
  sink: string;
  seq: number;
  receivedAt: Time;
  method: string;
  deliveryId?: string;
  attempt?: number;
  signature: 'valid' | 'invalid' | 'missing' | 'unchecked';
  signatureError?: string;
  status: number;
}
/** A journaled Partner API request, without headers and bodies (requests() has them). */
export interface RequestEvent {
  id: number;
  time: Time;
  realTime: Time;
  method: string;
  path: string;
  query: string;
  partnerId?: string;
  /** 0: a fault closed the connection. */
  status: number;
  latencyMs: number;
  fault?: string;
}
/** The stream's first event. */
export interface StreamHello {
  /** The newest event's id when the stream opened: where it resumes. */
  lastEventId: number;
  clock: Clock;
}
/** Events were missed: reload what you show (GET the lists), then go on reading. */
export interface StreamLost {
  /** How many were missed (0 when unknown). */
  missed: number;
  /** behind: the buffer no longer holds them; flood: over 1,000 changes in one window; unknown: lastEventId was never given (a restarted mock). */
  reason: 'behind' | 'flood' | 'unknown';
  /** The id the stream goes on after. */
  lastEventId: number;
}
/** The mock is shutting down; the stream ends after this. */
export interface StreamStopping {
  lastEventId: number;
}
/** The stream's limit or timeout was reached; the stream ends after this. */
export interface StreamEnd {
  reason: 'limit' | 'timeout';
  /** The last event id sent: resume after it. */
  lastEventId: number;
}
/** A heartbeat comment (": heartbeat TIME"), yielded only with heartbeats: true. */
export interface StreamHeartbeat {
  time: Time;
}
/** The data of each event, by name (the served document's x-events). */
export interface StreamEventData {
  hello: StreamHello;
  delivery: DeliveryChange;
  attempt: Attempt;
  sink: SinkEvent;
  request: RequestEvent;
  clock: Clock;
  reset: Record<string, never>;
  lost: StreamLost;
  stopping: StreamStopping;
  end: StreamEnd;
  heartbeat: StreamHeartbeat;
}
/** An event's id: increasing, never reused (not even by a reset); hello, stopping, end and heartbeats have none. */
export type StreamEventId<N extends StreamEventName> = N extends 'hello' | 'stopping' | 'end' | 'heartbeat' ? null : N extends 'lost' ? number | null : number;
/** One event of the stream; a union discriminated by name: `if (e.name === 'delivery') e.data.state`. */
export type StreamEvent<N extends StreamEventName = StreamEventName> = N extends StreamEventName
  ? { id: StreamEventId<N>; name: N; data: StreamEventData[N] }
  : never;
/** A test of an event's data (and the event). */
export type StreamPredicate<N extends StreamEventName = StreamEventName> = (data: StreamEventData[N], event: StreamEvent<N>) => boolean;

/** The options of client.stream(): the query of GET /_mock/stream, and the client's own. */
export interface StreamOptions {
  /** The kinds to send (default all): an array, or "delivery,attempt". hello, reset, lost, stopping and end always come. */
  events?: StreamChangeName[] | string;
  /** Only this partner's delivery, attempt and request events (by key). */
  apiKey?: string;
  /** Only this partner's delivery, attempt and request events (by id). */
  partnerId?: string;
  /** Only delivery and attempt events of this webhook kind. */
  type?: WebhookKind;
  /** Only delivery and attempt events of this event type. */
  eventType?: EventType;
  /** Only delivery and attempt events of this organization. */
  organizationId?: string;
  /** Only delivery events in this state, and attempt events with this status. */
  state?: DeliveryState | AttemptStatus;
  /** Only the delivery, attempt and sink events of this delivery. */
  deliveryId?: string;
  /** Only this sink's sink events. */
  sink?: string;
  /** How long a quiet stream waits before a heartbeat: 50ms to 5m, default 15s. */
  heartbeat?: Duration;
  /** How long the mock gathers changes before it sends them (a delivery's merged into its latest): 0 to 10s, default 100ms. */
  coalesce?: Duration;
  /** End the stream (an end event) after this many change events: 1 to 100000. */
  limit?: number;
  /** End the stream (an end event) after this long: at most 24h; default never. */
  timeout?: Duration;
  /** Resume after this event id: a previous stream's lastEventId. */
  lastEventId?: number | string;
  /** Aborts the stream: its reads then throw the signal's reason. */
  signal?: AbortSignal;
  /** true: yield the heartbeat comments, as events named "heartbeat". */
  heartbeats?: boolean;
  /** Milliseconds the stream may send nothing, not even a heartbeat, before it is taken for dead (default: the heartbeat interval plus 15 s). */
  idleTimeout?: number;
}

/**
 * An open GET /_mock/stream, subscribed: `for await (const e of stream)`.
 * The iteration ends after "stopping" or "end", when the mock ends the stream, or
 * after close() (a loop that breaks closes it); an aborted signal throws
 * its reason; a broken connection throws a BullseyeMockError with status 0.
 */
export class EventStream implements AsyncIterableIterator<StreamEvent> {
  private constructor();
  /** The stream's URL, with its query. */
  readonly url: string;
  readonly status: number;
  /** The 200's headers, lower-case names. */
  readonly headers: Record<string, string>;
  /** Where a new stream resumes this one: the id of the last event taken, or before any the hello's lastEventId. */
  readonly lastEventId: number | null;
  /** The hello event, once the iteration passed it. */
  readonly hello: StreamEvent<'hello'> | null;
  /** The reconnection delay (ms) the stream asked for (its retry line), once read. */
  readonly retry: number | null;
  /** Whether it ended or was closed. */
  readonly closed: boolean;
  [Symbol.asyncIterator](): EventStream;
  next(): Promise<IteratorResult<StreamEvent, undefined>>;
  /** Closes the stream. */
  return(): Promise<IteratorResult<StreamEvent, undefined>>;
  /** The next event, undefined at the end; past timeout a WaitTimeoutError (the stream stays usable). */
  read(options?: { timeout?: Duration }): Promise<StreamEvent | undefined>;
  /**
   * The first event named name whose data the predicate accepts, the ones before it skipped. Past timeout
   * (default 30s) a WaitTimeoutError whose result is the events read; a stream that ends first, a
   * BullseyeMockError with code "StreamEnded".
   */
  waitForEvent<N extends StreamEventName>(name: N, predicate?: StreamPredicate<N> | null, options?: { timeout?: Duration }): Promise<StreamEvent<N>>;
  waitForEvent(name?: null, predicate?: StreamPredicate | null, options?: { timeout?: Duration }): Promise<StreamEvent>;
  /** Every event read up to and including the one waitForEvent answers. */
  eventsUntil<N extends StreamEventName>(name: N, predicate?: StreamPredicate<N> | null, options?: { timeout?: Duration }): Promise<StreamEvent[]>;
  eventsUntil(name?: null, predicate?: StreamPredicate | null, options?: { timeout?: Duration }): Promise<StreamEvent[]>;
  /** Closes the connection (the mock frees its place); the iteration ends. */
  close(): void;
}

export interface ClientOptions {
  /** The mock's base URL, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  /** --admin-token: sent as Authorization: Bearer on the control API. */
  adminToken?: string;
  /** The key client.partner uses; default: the mock's first partner's (GET /_mock/partners). */
  apiKey?: string;
  /** Where the mock reaches itself (sinkUrl's base); default baseUrl. */
  sinkBaseUrl?: string;
  fetch?: typeof fetch;
  /** Milliseconds before a request without an answer fails (default 30000; long-polls get their timeout plus 15 s). */
  requestTimeout?: number;
}

/** The control API (/_mock), with the Partner API under client.partner. */
export class Client {
  constructor(options: ClientOptions);
  readonly baseUrl: string;
  readonly sinkBaseUrl: string;
  /** The Partner API as an app calls it. */
  readonly partner: PartnerClient;
  /** A PartnerClient with another key (a scoped or revoked one, another partner's). */
  partnerFor(apiKey: string): PartnerClient;

  /** GET /healthz */
  health(): Promise<{ status: 'ok' }>;
  /** HEAD /healthz: true when it answers 200 (false on no answer). */
  ready(): Promise<boolean>;
  /** GET /metrics (Prometheus text) */
  metrics(): Promise<string>;
  /** GET /_mock/openapi.json */
  openapi(): Promise<any>;
  /** GET /_mock/ui (HTML) */
  ui(): Promise<string>;
  /** The inspector's page at a view and item: inspectorUrl('deliveries', id), inspectorUrl('sinks', 'demo', 3). */
  inspectorUrl(view?: 'deliveries' | 'log' | 'sinks' | 'partner-api' | 'traffic', ...items: Array<string | number>): string;
  /** GET /_mock/ui/{file} */
  uiFile(file: string): Promise<string>;

  /** GET /_mock/partners */
  partners(): Promise<{ partners: Array<{ id: string; apiKey: string; organizationIds: string[] }> }>;
  /** POST /_mock/events (202) */
  trigger(send: Send): Promise<Triggered>;
  trigger(type: EventType, send?: Omit<Send, 'type'>): Promise<Triggered>;

  /** GET /_mock/deliveries, newest first (attempts without headers or excerpts). */
  /** url: only deliveries with an attempt sent to a URL containing it. */
  deliveries(filters?: DeliveryFilters & Paging & { state?: DeliveryState; url?: string }): Promise<Page & { deliveries: Delivery[] }>;
  /** GET /_mock/deliveries/{id} */
  delivery(id: string): Promise<Delivery>;
  /** GET /_mock/deliveries/{id}/wait: the delivery once it meets the condition (default: a final state). */
  waitForDelivery(id: string, options?: DeliveryWaitOptions): Promise<Delivery>;
  /** GET /_mock/deliveries/wait: until every matching delivery pending at the call is final. */
  waitAll(options?: DeliveryFilters & WaitOptions): Promise<WaitAllResult>;
  /** POST /_mock/deliveries/{id}/redeliver (202) */
  redeliver(id: string): Promise<{ deliveryId: string; redeliveryOf: string }>;
  /** POST /_mock/reset */
  reset(): Promise<{ success: boolean }>;

  /**
   * GET /_mock/stream: the mock's changes as Server-Sent Events. Resolves once the mock has subscribed the
   * stream (every change after that is on it); the promise is async iterable too. A bad parameter rejects
   * with a 400 whose details.parameter names it; past 64 open streams, a 429 with retry-after.
   */
  stream(options?: StreamOptions): Promise<EventStream> & AsyncIterable<StreamEvent>;

  /** GET /_mock/clock */
  clock(): Promise<Clock>;
  /** POST /_mock/clock/advance (409 unless --clock manual) */
  advanceClock(move: Advance): Promise<Advanced>;
  /** advanceClock({toNextDue: true}): moved is false when nothing is scheduled. */
  advanceToNextDue(): Promise<Advanced>;
  /** advanceClock({by}) */
  advanceBy(by: Duration): Promise<Advanced>;
  /** advanceClock({to}) */
  setClock(to: Time | Date): Promise<Advanced>;

  /** POST /_mock/scenarios/runs (202): YAML text, bytes, or an object (sent as JSON). */
  startScenario(source: string | Uint8Array | Record<string, unknown>, options?: ScenarioOptions): Promise<ScenarioRun>;
  /** startScenario with a file's contents, named by its base name. */
  startScenarioFile(path: string, options?: ScenarioOptions): Promise<ScenarioRun>;
  /** GET /_mock/scenarios/runs, newest first, without reports. */
  scenarioRuns(): Promise<{ runs: ScenarioRun[] }>;
  /** GET /_mock/scenarios/runs/{id} */
  scenarioRun(id: string): Promise<ScenarioRun>;
  /** GET /_mock/scenarios/runs/{id}/wait: the run once it ended. */
  waitForScenarioRun(id: string, options?: WaitOptions): Promise<ScenarioRun>;
  /** The report of a run once it ended. */
  scenarioReport(id: string, options?: WaitOptions): Promise<ScenarioReport | undefined>;
  /** startScenario, then waitForScenarioRun. */
  runScenario(source: string | Uint8Array | Record<string, unknown>, options?: ScenarioOptions & { timeout?: Duration }): Promise<ScenarioRun>;

  /** GET /_mock/logs: the vendor's attempt log, for one partner or all, journaling nothing. */
  attemptLog(filters?: Paging & { apiKey?: string; partnerId?: string; type?: WebhookKind; status?: AttemptStatus; organizationId?: string }): Promise<Page & { logs: Attempt[] }>;
  /** GET /_mock/requests: the journal, newest first. */
  requests(match?: RequestMatch & Paging): Promise<Page & { requests: JournalEntry[]; cap: number; evicted: number }>;
  /** GET /_mock/requests/wait: until at least count (default 1) requests match. */
  waitRequests(match?: RequestMatch, options?: WaitOptions & { count?: number; pageSize?: number }): Promise<WaitRequestsResult>;
  /** POST /_mock/faults (201) */
  addFault(fault: APIFaultRequest): Promise<APIFault>;
  /** GET /_mock/faults */
  faults(): Promise<{ faults: APIFault[] }>;
  /** GET /_mock/faults/{id} */
  fault(id: string): Promise<APIFault>;
  /** DELETE /_mock/faults/{id}: the fault as it was. */
  deleteFault(id: string): Promise<APIFault>;
  /** DELETE /_mock/faults */
  clearFaults(): Promise<{ removed: number }>;
  /** POST /_mock/keys (201) */
  addKey(key?: { partnerId?: string; apiKey?: string; scopes?: Scope[] }): Promise<Key>;
  /** GET /_mock/keys */
  keys(): Promise<{ keys: Key[] }>;
  /** DELETE /_mock/keys/{apiKey} */
  revokeKey(apiKey: string): Promise<{ revoked: boolean; apiKey: string; partnerId: string }>;

  /** GET /_mock/traffic: the load report, with the thresholds' verdicts when given. */
  traffic(thresholds?: TrafficThresholds): Promise<TrafficReport>;
  /** GET /_mock/traffic.svg (SVG text): the report drawn, with the same thresholds as traffic(). */
  trafficSvg(thresholds?: TrafficThresholds): Promise<string>;

  /** The URL of the built-in receiver name, to configure as a webhook URL. */
  sinkUrl(name: string): string;
  /** GET /_mock/sink */
  sinks(): Promise<{ sinks: Sink[] }>;
  /** PUT /_mock/sink/{name}: clears what it recorded. */
  configureSink(name: string, config?: SinkConfig): Promise<Sink>;
  /** GET /_mock/sink/{name} */
  sink(name: string): Promise<Sink>;
  /** DELETE /_mock/sink/{name} (204) */
  deleteSink(name: string): Promise<void>;
  /** POST /_mock/sink/{name}: the receiving end; the configured status is not an error. */
  postToSink(name: string, body?: string | Uint8Array | Record<string, unknown>, options?: { headers?: Record<string, string> }): Promise<SinkAnswer>;
  /** GET /_mock/sink/{name}/requests (with atLeast: a long-poll). */
  sinkRequests(name: string, options?: Paging & WaitOptions & { atLeast?: number }): Promise<SinkRequestsPage>;
  /** The sink's requests once it has received n (default 1), oldest first (at most 100). */
  waitForSinkRequests(name: string, n?: number, options?: WaitOptions & Paging): Promise<SinkRequest[]>;
}

export default Client;
