// bullseye-mock/testing: start the real mock for a test suite.
//
//   const mock = await startMock();   // a free loopback port, a manual clock
//   mock.client.trigger(...); ...
//   await mock.stop();
//
// useMock() does the same from node:test's before/after hooks (or Jest's
// and Vitest's beforeAll/afterAll).

import { spawn, execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

import { Client } from './index.js';

const execFileP = promisify(execFile);

const BANNER = /listening on (https?:\/\/\S+)/;

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
    if (process.platform === 'win32' && isExecutable(`${candidate}.exe`)) return `${candidate}.exe`;
  }
  return undefined;
}

/**
 * The mock's binary: $BULLSEYE_MOCK_BIN, else bullseye-mock on PATH, else
 * the path given (options.binary). Throws when there is none.
 */
export function findBinary(binary) {
  // The path a test names wins, as in the Python client; then the
  // environment; then PATH.
  if (binary) {
    if (!isExecutable(binary)) throw new Error(`bullseye-mock: ${binary} is not an executable file`);
    return binary;
  }
  const env = process.env.BULLSEYE_MOCK_BIN;
  if (env) {
    if (!isExecutable(env)) throw new Error(`bullseye-mock: BULLSEYE_MOCK_BIN=${env} is not an executable file`);
    return env;
  }
  const found = onPath('bullseye-mock');
  if (found) return found;
  throw new Error(
    'bullseye-mock: no binary to start: set BULLSEYE_MOCK_BIN, put bullseye-mock on PATH, ' +
      'pass startMock({binary: "path/to/bullseye-mock"}), or use the image: startMock({docker: true}). ' +
      'Build it with: go build -o bullseye-mock github.com/bullseye-mock/bullseye-mock',
  );
}

// The flags of options, for the binary and (mostly) the container.
function flags(o) {
  const out = [];
  const clock = o.clock ?? (o.timeScale !== undefined ? 'scaled' : 'manual');
  if (clock === 'manual') out.push('--clock', 'manual');
  else if (clock !== 'scaled') throw new TypeError(`startMock: clock must be "manual" or "scaled", got ${clock}`);
  if (o.timeScale !== undefined) out.push('--time-scale', String(o.timeScale));
  if (o.seed !== undefined) out.push('--seed', String(o.seed));
  if (o.startTime !== undefined) out.push('--start-time', o.startTime instanceof Date ? o.startTime.toISOString() : String(o.startTime));
  for (const k of o.apiKeys ?? []) out.push('--api-key', k);
  if (o.adminToken) out.push('--admin-token', o.adminToken);
  out.push('--shutdown-timeout', o.shutdownTimeout ?? '2s');
  out.push(...(o.args ?? []));
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls GET /healthz until it answers 200 or the deadline passes. (The
// mock prints its URL once it listens, so the first try nearly always
// succeeds; a container's published port may take a moment.)
async function waitHealthy(url, deadline, alive) {
  let last;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`bullseye-mock: GET ${url}/healthz did not answer 200 in time (last: ${last})`);
    const why = alive();
    if (why) throw new Error(why);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(Math.min(left, 2000)) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = err?.cause?.code ?? err?.message;
    }
    await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
  }
}

function tail(lines) {
  return lines.length ? `\n${lines.slice(-20).join('\n')}` : ' (nothing)';
}

async function startProcess(o) {
  const bin = findBinary(o.binary);
  const args = ['serve', '--addr', '127.0.0.1:0', ...flags(o)];
  const child = spawn(bin, args, {
    env: { ...process.env, ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: o.cwd,
  });
  const stderrLines = [];
  const stdoutLines = [];
  let exited = null;
  const exit = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  const spawnError = new Promise((_, reject) => child.once('error', (err) => reject(new Error(`bullseye-mock: cannot start ${bin}: ${err.message}`))));
  let errBuf = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    errBuf += chunk;
    const parts = errBuf.split('\n');
    errBuf = parts.pop();
    for (const line of parts) {
      stderrLines.push(line);
      if (stderrLines.length > 200) stderrLines.shift();
      if (o.stderr === 'inherit') process.stderr.write(`${line}\n`);
    }
  });
  // Kill a mock its test forgot to stop when the test process exits.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const deadline = Date.now() + (o.startTimeout ?? 15_000);
  const firstLine = new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buf += chunk;
      const parts = buf.split('\n');
      buf = parts.pop();
      for (const line of parts) {
        stdoutLines.push(line);
        if (stdoutLines.length > 200) stdoutLines.shift();
        if (stdoutLines.length === 1) {
          const m = BANNER.exec(line);
          if (m) resolve(m[1]);
          else reject(new Error(`bullseye-mock: the first stdout line is not "bullseye-mock listening on URL": ${JSON.stringify(line)}`));
        }
      }
    });
    exit.then(({ code, signal }) =>
      reject(new Error(`bullseye-mock: ${bin} exited (${signal ?? `status ${code}`}) before it listened; stderr:${tail(stderrLines)}`)),
    );
    const t = setTimeout(() => reject(new Error(`bullseye-mock: ${bin} printed no URL within ${o.startTimeout ?? 15_000}ms; stderr:${tail(stderrLines)}`)), Math.max(0, deadline - Date.now()));
    t.unref();
  });

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (exited) return exited;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), o.stopTimeout ?? 10_000);
    try {
      return await exit;
    } finally {
      clearTimeout(t);
    }
  };

  let url;
  try {
    url = await Promise.race([firstLine, spawnError]);
    await waitHealthy(url, deadline, () => (exited ? `bullseye-mock exited (${exited.signal ?? `status ${exited.code}`}); stderr:${tail(stderrLines)}` : ''));
  } catch (err) {
    await stop();
    throw err;
  }
  // A mock left running must not keep the test process alive.
  child.unref();
  child.stdout.unref?.();
  child.stderr.unref?.();
  return {
    url,
    sinkBaseUrl: url,
    stop,
    process: child,
    exited: exit,
    stdout: () => stdoutLines.join('\n'),
    stderr: () => stderrLines.join('\n'),
  };
}

async function startContainer(o) {
  const docker = o.dockerCommand ?? 'docker';
  const image = o.image ?? process.env.BULLSEYE_MOCK_IMAGE ?? 'bullseye-mock';
  const env = [];
  for (const [k, v] of Object.entries(o.env ?? {})) env.push('-e', `${k}=${v}`);
  // Inside the container the mock listens on 0.0.0.0:8080 (the image's
  // BULLSEYE_MOCK_ADDR); the port is published on the host's loopback only.
  const args = ['run', '-d', '--rm', '-p', '127.0.0.1::8080', '--add-host', 'host.docker.internal:host-gateway', ...env, ...(o.dockerArgs ?? []), image, 'serve', ...flags(o)];
  let id;
  try {
    id = (await execFileP(docker, args, { timeout: o.startTimeout ?? 60_000 })).stdout.trim();
  } catch (err) {
    throw new Error(`bullseye-mock: docker run ${image} failed: ${err.stderr || err.message}`);
  }
  const stop = async () => {
    try {
      await execFileP(docker, ['stop', '-t', '5', id], { timeout: 30_000 });
    } catch {
      // already gone
    }
    return { code: 0, signal: null };
  };
  try {
    const port = (await execFileP(docker, ['port', id, '8080/tcp'])).stdout.trim().split('\n')[0];
    const hostPort = port.slice(port.lastIndexOf(':') + 1);
    const url = `http://127.0.0.1:${hostPort}`;
    const deadline = Date.now() + (o.startTimeout ?? 30_000);
    await waitHealthy(url, deadline, () => '');
    const logs = async () => {
      try {
        const { stdout, stderr } = await execFileP(docker, ['logs', id]);
        return { stdout, stderr };
      } catch {
        return { stdout: '', stderr: '' };
      }
    };
    return {
      url,
      // The mock reaches its own sinks on its side of the port mapping.
      sinkBaseUrl: 'http://127.0.0.1:8080',
      stop,
      containerId: id,
      logs,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Starts the mock and answers {client, url, apiKey, partnerId, stop()}.
 * options: binary, docker, image, clock ("manual" default, or "scaled"),
 * timeScale, seed, startTime, apiKeys, adminToken, args, env, startTimeout
 * (ms), stderr ("inherit" to echo the mock's log).
 */
export async function startMock(options = {}) {
  const started = options.docker ? await startContainer(options) : await startProcess(options);
  const clientFor = (apiKey) =>
    new Client({
      baseUrl: started.url,
      adminToken: options.adminToken,
      apiKey,
      sinkBaseUrl: started.sinkBaseUrl,
      requestTimeout: options.requestTimeout,
    });
  let partner;
  try {
    const { partners } = await clientFor(undefined).partners();
    partner = partners[0];
  } catch (err) {
    await started.stop();
    throw err;
  }
  // client.partner calls the Partner API with the first partner's key.
  return { ...started, client: clientFor(partner.apiKey), apiKey: partner.apiKey, partnerId: partner.id };
}

function defaultHooks() {
  const g = globalThis;
  // Jest, and Vitest with globals: true. Their hooks take a timeout in ms.
  if (typeof g.beforeAll === 'function' && typeof g.afterAll === 'function') {
    return { before: g.beforeAll, after: g.afterAll, beforeEach: g.beforeEach, timeout: (ms) => ms };
  }
  // node:test, loaded only here: other runners' module systems (Jest's)
  // may not resolve it, and need not. Its hooks take {timeout}.
  const nodeTest = createRequire(import.meta.url)('node:test');
  return { before: nodeTest.before, after: nodeTest.after, beforeEach: nodeTest.beforeEach, timeout: (ms) => ({ timeout: ms }) };
}

/**
 * Registers hooks that start a mock before the tests and stop it after
 * them, and answers a handle whose client, url, apiKey and partnerId are
 * set once the "before" hook ran. options: those of startMock, plus
 * resetEach (POST /_mock/reset before every test), hookTimeout (ms, default
 * 60000) and hooks ({before, after, beforeEach}: e.g. Vitest's imported
 * beforeAll/afterAll/beforeEach, called with a timeout in ms as second
 * argument; default: the global beforeAll/afterAll of Jest or Vitest when
 * they exist, else node:test's before/after).
 */
export function useMock(options = {}) {
  const { hooks: given, resetEach = false, hookTimeout = 60_000, ...startOptions } = options;
  // Given hooks (Vitest's or Jest's imported ones) take a timeout in ms.
  const hooks = given ? { timeout: (ms) => ms, ...given } : defaultHooks();
  const bound = hooks.timeout(hookTimeout);
  let mock;
  const need = (what) => {
    if (!mock) throw new Error(`bullseye-mock: useMock().${what} is read before the mock started: read it inside a test or hook`);
    return mock;
  };
  const handle = {
    get client() {
      return need('client').client;
    },
    get url() {
      return need('url').url;
    },
    get apiKey() {
      return need('apiKey').apiKey;
    },
    get partnerId() {
      return need('partnerId').partnerId;
    },
    get mock() {
      return need('mock');
    },
  };
  hooks.before(async () => {
    mock = await startMock(startOptions);
  }, bound);
  hooks.after(async () => {
    if (mock) await mock.stop();
  }, bound);
  if (resetEach) {
    if (typeof hooks.beforeEach !== 'function') throw new TypeError('useMock: resetEach needs hooks.beforeEach');
    hooks.beforeEach(async () => {
      await need('client').client.reset();
    }, bound);
  }
  return handle;
}
