/**
 * Throwaway Orthanc servers for tests: each one is a plain child process with its own ports, config,
 * credentials and storage in a fresh temp folder. Nothing is shared with other tests or left behind:
 * children are SIGKILLed when the test process exits and, where util-linux `setpriv` exists, also when it
 * dies without running exit handlers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import {
  type GeneratePracticeOptions,
  generatePractice,
  iterateInstances,
  type PracticePlan,
} from '../../src/dicom/synthetic.js';
import { requireFile } from './requirements.js';

export const ORTHANC_BINARY = process.env.ORTHANC_BINARY ?? '/usr/sbin/Orthanc';
export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export interface OrthancModality {
  aet: string;
  host: string;
  port: number;
}

export interface StartOrthancOptions {
  /** Called AE title; default a unique `UPC…` title. At most 16 characters. */
  aet?: string;
  /** Remote DICOM nodes this Orthanc may C-STORE/C-ECHO to, keyed by the name used in `/modalities/{name}`. */
  modalities?: Record<string, OrthancModality>;
  /** Keep the temp folder after stop() (for debugging). */
  keep?: boolean;
  /** How long to wait for `GET /system`; default 20 s. */
  startTimeoutMs?: number;
  /**
   * How long to wait after SIGTERM before SIGKILL. Default: 10 s for restart() and for stop() with `keep`,
   * but only 250 ms for a plain stop(), whose storage is deleted anyway (an orderly Orthanc 1.10 shutdown
   * takes about 4 s, which would dominate short test files).
   */
  stopGraceMs?: number;
  /**
   * Extra Orthanc configuration, merged over the harness defaults. An escape hatch: overriding ports,
   * credentials or DicomAet breaks the harness's readiness check.
   */
  config?: Record<string, unknown>;
}

export interface OrthancRequestInit {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: string | Uint8Array;
  /** Content-Type of body; default application/json for strings. */
  contentType?: string;
  accept?: string;
  timeoutMs?: number;
}

export interface OrthancResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text(): string;
  json<T>(): T;
}

export interface OrthancHandle {
  /** `http://127.0.0.1:<httpPort>`: Orthanc listens on all interfaces but tests only use loopback. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** Ready-made `Authorization` header value. */
  readonly authorization: string;
  readonly aet: string;
  readonly httpPort: number;
  readonly dicomPort: number;
  /** Temp folder holding the config, storage and index. */
  readonly dir: string;
  /** Authenticated request to the REST API; resolves for any status. */
  request(path: string, init?: OrthancRequestInit): Promise<OrthancResponse>;
  /** Authenticated request that expects a 2xx JSON answer and throws otherwise. */
  json<T>(path: string, init?: OrthancRequestInit): Promise<T>;
  /** The last lines Orthanc wrote to stdout/stderr. */
  logs(): string;
  /** SIGTERM, SIGKILL after the grace period, then remove the temp folder unless `keep`. Idempotent. */
  stop(): Promise<void>;
  /** Simulates a crash: SIGKILL and keep the storage so that restart() can bring it back. */
  kill(): Promise<void>;
  /**
   * Stops (if still running) and starts again on the same ports and storage. `graceful` (default) waits for
   * Orthanc's orderly shutdown (~4 s); `crash` SIGKILLs it, like kill() then restart().
   */
  restart(mode?: 'graceful' | 'crash'): Promise<void>;
}

export class OrthancStartError extends Error {
  override name = 'OrthancStartError';
}

// ---------------------------------------------------------------------------------------------------------
// Process bookkeeping
// ---------------------------------------------------------------------------------------------------------

const liveChildren = new Set<ChildProcess>();
const disposableDirs = new Set<string>();
let exitHookInstalled = false;

/** Last resort for tests that forget stop(): synchronous, because 'exit' handlers cannot await. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
    for (const dir of disposableDirs) rmSync(dir, { recursive: true, force: true });
  });
}

// `setpriv --pdeathsig` makes the kernel kill Orthanc if this process dies without running 'exit' hooks.
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));

const LOG_LINES = 200;

class LogTail {
  readonly #lines: string[] = [];
  #partial = '';

  push(chunk: Buffer): void {
    const parts = (this.#partial + chunk.toString('utf8')).split('\n');
    this.#partial = parts.pop() ?? '';
    this.#lines.push(...parts);
    if (this.#lines.length > LOG_LINES) this.#lines.splice(0, this.#lines.length - LOG_LINES);
  }

  text(lines = LOG_LINES): string {
    return [...this.#lines.slice(-lines), this.#partial].filter(Boolean).join('\n');
  }
}

function spawnOrthanc(configPath: string, cwd: string, logs: LogTail): ChildProcess {
  requireFile(ORTHANC_BINARY, 'orthanc');
  requireFile(DICOMWEB_PLUGIN, 'orthanc-dicomweb', { executable: false });
  const [command, args] = SETPRIV
    ? [SETPRIV, ['--pdeathsig', 'KILL', '--', ORTHANC_BINARY, configPath]]
    : [ORTHANC_BINARY, [configPath]];
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, TCP_NODELAY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => logs.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => logs.push(chunk));
  // A forgotten Orthanc must not keep the test process alive; the exit hook reaps it.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves true once the child has exited, false after the timeout. */
function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  // A ref'd timer: the child and its pipes are unref'd, so without it a script could exit mid-stop.
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (hasExited(child)) return;
  child.kill('SIGTERM');
  if (await waitForExit(child, graceMs)) return;
  child.kill('SIGKILL');
  await waitForExit(child, 5_000);
}

// ---------------------------------------------------------------------------------------------------------
// Ports and config
// ---------------------------------------------------------------------------------------------------------

/**
 * Asks the kernel for distinct free ports by holding them all open at once. Listening on all interfaces
 * matches what Orthanc does. Another process can still grab a port before Orthanc binds it, so start-up
 * retries on "already in use".
 */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve, reject) => {
            server.once('error', reject);
            server.listen(0, () => resolve((server.address() as AddressInfo).port));
          }),
      ),
    );
  } finally {
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
      ),
    );
  }
}

let instanceCounter = 0;

function defaultAet(): string {
  instanceCounter += 1;
  return `UPC${instanceCounter.toString(36)}${randomBytes(4).toString('hex')}`.toUpperCase().slice(0, 16);
}

function validateAet(aet: string): string {
  if (!/^[A-Za-z0-9_.-]{1,16}$/.test(aet)) throw new Error(`Invalid AE title ${JSON.stringify(aet)}`);
  return aet;
}

interface Settings {
  dir: string;
  aet: string;
  username: string;
  password: string;
  httpPort: number;
  dicomPort: number;
}

function orthancConfig(settings: Settings, options: StartOrthancOptions): Record<string, unknown> {
  const modalities = Object.fromEntries(
    Object.entries(options.modalities ?? {}).map(([name, m]) => [
      name,
      { AET: m.aet, Host: m.host, Port: m.port },
    ]),
  );
  return {
    Name: `upc-test-${settings.aet}`,
    StorageDirectory: join(settings.dir, 'storage'),
    IndexDirectory: join(settings.dir, 'index'),
    RemoteAccessAllowed: false,
    AuthenticationEnabled: true,
    RegisteredUsers: { [settings.username]: settings.password },
    HttpPort: settings.httpPort,
    DicomPort: settings.dicomPort,
    DicomAet: settings.aet,
    DicomModalities: modalities,
    Plugins: [DICOMWEB_PLUGIN],
    // No DicomWeb.Host: the plugin then builds URLs from the request's Host header.
    DicomWeb: { Enable: true, Root: '/dicom-web/' },
    StableAge: 1,
    ConcurrentJobs: 2,
    SaveJobs: false,
    HttpDescribeErrors: true,
    // Default 5 s keeps outgoing associations open, which only slows tests down.
    DicomAssociationCloseDelay: 0,
    ...options.config,
  };
}

// ---------------------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------------------

async function send(pool: Pool, authorization: string, path: string, init: OrthancRequestInit = {}) {
  const body = init.body;
  const headers: Record<string, string> = { authorization };
  if (body !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
  if (init.accept) headers.accept = init.accept;
  const timeout = init.timeoutMs ?? 30_000;
  const response = await pool.request({
    path,
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
    headersTimeout: timeout,
    bodyTimeout: timeout,
  });
  const bytes = Buffer.from(await response.body.arrayBuffer());
  const result: OrthancResponse = {
    status: response.statusCode,
    headers: response.headers,
    body: bytes,
    text: () => bytes.toString('utf8'),
    json: <T>() => JSON.parse(bytes.toString('utf8')) as T,
  };
  return result;
}

function newPool(url: string): Pool {
  return new Pool(url, { connections: 16, connectTimeout: 2_000, keepAliveTimeout: 10_000 });
}

// ---------------------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------------------

interface SystemInfo {
  DicomAet: string;
  Version: string;
}

/** Polls `GET /system` until this very Orthanc (checked by AE title) answers, or fails with its log tail. */
async function waitUntilReady(
  child: ChildProcess,
  pool: Pool,
  settings: Settings,
  authorization: string,
  logs: LogTail,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  while (Date.now() < deadline) {
    if (hasExited(child)) {
      throw new OrthancStartError(
        `Orthanc exited during start-up (code ${child.exitCode}, signal ${child.signalCode}).\n${logs.text(40)}`,
      );
    }
    try {
      const response = await send(pool, authorization, '/system', { timeoutMs: 1_000 });
      if (response.status === 200 && response.json<SystemInfo>().DicomAet === settings.aet) return;
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await sleep(25);
  }
  throw new OrthancStartError(
    `Orthanc did not answer GET /system on port ${settings.httpPort} within ${timeoutMs} ms (${lastError}).\n` +
      logs.text(40),
  );
}

const START_ATTEMPTS = 3;

export async function startOrthanc(options: StartOrthancOptions = {}): Promise<OrthancHandle> {
  installExitHook();
  const dir = await mkdtemp(join(tmpdir(), 'upc-orthanc-'));
  disposableDirs.add(dir);
  const credentials = {
    username: `upc-${randomBytes(4).toString('hex')}`,
    password: randomBytes(18).toString('base64url'),
  };
  const aet = validateAet(options.aet ?? defaultAet());
  const configPath = join(dir, 'orthanc.json');
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;

  // Port races with other processes show up as "already in use"; pick new ports and try again.
  for (let attempt = 1; ; attempt++) {
    const [httpPort = 0, dicomPort = 0] = await freePorts(2);
    const settings: Settings = { dir, aet, ...credentials, httpPort, dicomPort };
    await writeFile(configPath, JSON.stringify(orthancConfig(settings, options), null, 2));
    const logs = new LogTail();
    const child = spawnOrthanc(configPath, dir, logs);
    const pool = newPool(`http://127.0.0.1:${httpPort}`);
    const authorization = `Basic ${Buffer.from(`${settings.username}:${settings.password}`).toString('base64')}`;
    try {
      await waitUntilReady(child, pool, settings, authorization, logs, startTimeoutMs);
      return createHandle({ settings, options, child, pool, logs, configPath, authorization });
    } catch (error) {
      await terminate(child, 1_000);
      await pool.destroy();
      const portClash = /already in use/i.test(logs.text(20));
      if (!portClash || attempt >= START_ATTEMPTS) {
        if (!options.keep) await removeDir(dir);
        throw error;
      }
    }
  }
}

async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  disposableDirs.delete(dir);
}

interface HandleState {
  settings: Settings;
  options: StartOrthancOptions;
  child: ChildProcess;
  pool: Pool;
  logs: LogTail;
  configPath: string;
  authorization: string;
}

function createHandle(state: HandleState): OrthancHandle {
  const { settings, options, logs, configPath, authorization } = state;
  let { child, pool } = state;
  let stopped = false;
  const url = `http://127.0.0.1:${settings.httpPort}`;
  const keptGraceMs = options.stopGraceMs ?? 10_000;
  const disposeGraceMs = options.stopGraceMs ?? (options.keep ? 10_000 : 250);
  if (options.keep) disposableDirs.delete(settings.dir);

  /** A grace of 0 means SIGKILL straight away. */
  const halt = async (graceMs: number) => {
    // Closing our keep-alive sockets first spares Orthanc's HTTP server from waiting on them. The pool is
    // recreated on restart, which also avoids "other side closed" errors from stale sockets.
    if (!pool.destroyed) await pool.destroy();
    if (graceMs > 0) {
      await terminate(child, graceMs);
    } else if (!hasExited(child)) {
      child.kill('SIGKILL');
      await waitForExit(child, 5_000);
    }
  };

  const handle: OrthancHandle = {
    url,
    username: settings.username,
    password: settings.password,
    authorization,
    aet: settings.aet,
    httpPort: settings.httpPort,
    dicomPort: settings.dicomPort,
    dir: settings.dir,
    request: (path, init) => send(pool, authorization, path, init),
    async json<T>(path: string, init?: OrthancRequestInit): Promise<T> {
      const response = await send(pool, authorization, path, init);
      if (response.status < 200 || response.status >= 300) {
        throw new Error(`${init?.method ?? 'GET'} ${path} → HTTP ${response.status}: ${response.text()}`);
      }
      return response.json<T>();
    },
    logs: () => logs.text(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt(disposeGraceMs);
      if (!options.keep) await removeDir(settings.dir);
    },
    async kill() {
      if (stopped) throw new Error('Orthanc handle already stopped');
      await halt(0);
    },
    async restart(mode = 'graceful') {
      if (stopped) throw new Error('Orthanc handle already stopped');
      await halt(mode === 'graceful' ? keptGraceMs : 0);
      child = spawnOrthanc(configPath, settings.dir, logs);
      pool = newPool(url);
      await waitUntilReady(child, pool, settings, authorization, logs, options.startTimeoutMs ?? 20_000);
    },
  };
  return handle;
}

// ---------------------------------------------------------------------------------------------------------
// Loading data
// ---------------------------------------------------------------------------------------------------------

export interface UploadResult {
  stored: number;
  failed: number;
  /** The first few failures, for assertion messages. */
  errors: string[];
}

/** POSTs Part-10 files to `/instances` with a few requests in flight; "AlreadyStored" counts as stored. */
export async function uploadInstances(
  orthanc: OrthancHandle,
  files: Iterable<Uint8Array>,
  concurrency = 4,
): Promise<UploadResult> {
  const result: UploadResult = { stored: 0, failed: 0, errors: [] };
  const iterator = files[Symbol.iterator]();
  // Workers share one iterator, so files (possibly generated lazily) are built only as they are needed.
  const fail = (message: string) => {
    result.failed += 1;
    if (result.errors.length < 5) result.errors.push(message);
  };
  const worker = async () => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) {
      try {
        const response = await orthanc.request('/instances', {
          body: next.value,
          contentType: 'application/dicom',
        });
        if (response.status === 200) result.stored += 1;
        else fail(`HTTP ${response.status}: ${response.text().slice(0, 300)}`);
      } catch (error) {
        fail((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return result;
}

export interface LoadPracticeOptions extends GeneratePracticeOptions {
  concurrency?: number;
}

/** Generates a synthetic practice and uploads every instance; throws if any upload fails. */
export async function loadSyntheticPractice(
  orthanc: OrthancHandle,
  options: LoadPracticeOptions,
): Promise<PracticePlan> {
  const plan = generatePractice(options);
  const files = (function* () {
    for (const instance of iterateInstances(plan)) yield instance.bytes;
  })();
  const result = await uploadInstances(orthanc, files, options.concurrency);
  if (result.failed > 0 || result.stored !== plan.counts.instances) {
    throw new Error(
      `Uploaded ${result.stored}/${plan.counts.instances} instances, ${result.failed} failed: ` +
        result.errors.join('; '),
    );
  }
  return plan;
}
