// Type declarations of bullseye-mock/testing.
import type { ChildProcess } from 'node:child_process';
import type { Client } from './index.js';

export interface StartMockOptions {
  /**
   * The binary to start; without it, $BULLSEYE_MOCK_BIN, else bullseye-mock
   * on PATH.
   */
  binary?: string;
  /** Run the container image instead of a binary (docker run, port published on 127.0.0.1). */
  docker?: boolean;
  /** The image; default $BULLSEYE_MOCK_IMAGE, else "bullseye-mock". */
  image?: string;
  /** Extra arguments of docker run, before the image. */
  dockerArgs?: string[];
  dockerCommand?: string;
  /** "manual" (default; --clock manual), or "scaled" (real time, scaled by timeScale). */
  clock?: 'manual' | 'scaled';
  /** --time-scale (implies clock "scaled"). */
  timeScale?: number;
  seed?: number;
  /** --start-time: where mock time starts. */
  startTime?: string | Date;
  /** --api-key, repeated: the partners' keys (the first is client.partner's). */
  apiKeys?: string[];
  /** --admin-token; the client sends it. */
  adminToken?: string;
  /** --shutdown-timeout (default "2s", so stop() is quick). */
  shutdownTimeout?: string;
  /** More flags of serve, e.g. ["--retry-delays", "1s,2s"]. */
  args?: string[];
  /** More environment variables (BULLSEYE_MOCK_* ...). */
  env?: Record<string, string>;
  cwd?: string;
  /** Milliseconds for the URL to be printed and /healthz to answer (default 15000; 30000 for docker). */
  startTimeout?: number;
  /** Milliseconds stop() waits after SIGTERM before SIGKILL (default 10000). */
  stopTimeout?: number;
  /** "inherit": echo the mock's log (stderr) to this process's stderr. */
  stderr?: 'pipe' | 'inherit';
  /** The client's requestTimeout. */
  requestTimeout?: number;
}

export interface Mock {
  /** A client of this mock: admin token set, client.partner with the first partner's key. */
  client: Client;
  /** Base URL, e.g. http://127.0.0.1:41234. */
  url: string;
  /** Where the mock reaches itself (http://127.0.0.1:8080 inside a container). */
  sinkBaseUrl: string;
  /** The first partner's key and id. */
  apiKey: string;
  partnerId: string;
  /** Stops the mock (SIGTERM, or docker stop) and answers how it exited. */
  stop(): Promise<{ code: number | null; signal: string | null }>;
  /** The child process (binary only). */
  process?: ChildProcess;
  exited?: Promise<{ code: number | null; signal: string | null }>;
  /** What it printed (binary only; the last 200 lines). */
  stdout?(): string;
  stderr?(): string;
  /** The container (docker only). */
  containerId?: string;
  logs?(): Promise<{ stdout: string; stderr: string }>;
}

/** binary, else $BULLSEYE_MOCK_BIN, else bullseye-mock on PATH; throws when the one chosen is not executable. */
export function findBinary(binary?: string): string;

/** Starts the mock on 127.0.0.1 and a free port, waits for GET /healthz. */
export function startMock(options?: StartMockOptions): Promise<Mock>;

type Hook = (fn: () => Promise<void> | void, timeout?: any) => unknown;

export interface UseMockOptions extends StartMockOptions {
  /** POST /_mock/reset before every test. */
  resetEach?: boolean;
  /** The hooks' timeout in ms (default 60000); given hooks get it as their second argument. */
  hookTimeout?: number;
  /**
   * The hooks to register with; default node:test's before/after/beforeEach,
   * or the global beforeAll/afterAll/beforeEach when they exist (Jest, Vitest
   * with globals). With Vitest without globals pass its imported ones.
   */
  hooks?: { before: Hook; after: Hook; beforeEach?: Hook };
}

/** A handle whose fields are set once the before hook has started the mock. */
export interface MockHandle {
  readonly client: Client;
  readonly url: string;
  readonly apiKey: string;
  readonly partnerId: string;
  readonly mock: Mock;
}

/** Registers hooks that start a mock before the tests and stop it after them. */
export function useMock(options?: UseMockOptions): MockHandle;
