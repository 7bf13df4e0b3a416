import { Pool } from 'undici';
import { ToolError } from '../../core/errors.js';
import type { BackendResilience, BreakerState } from '../../core/resilience.js';

export interface OrthancSettings {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  timeoutMs: number;
  /** Sockets kept open to Orthanc; default 16. */
  connections?: number;
}

export interface OrthancRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below ORTHANC_URL, with query string. */
  path: string;
  body?: string | Uint8Array;
  contentType?: string;
  accept?: string;
  /** Safe to repeat; default true for GET. Only idempotent calls are retried. */
  idempotent?: boolean;
  signal?: AbortSignal | undefined;
  timeoutMs?: number;
}

export interface OrthancReply {
  status: number;
  contentType: string;
  body: Buffer;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number;
}

/** Responses are buffered inside the resilience policy; anything bigger than this is refused. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * HTTP client for Orthanc's REST API (and the DICOMweb plugin below it): one keep-alive pool, Basic auth,
 * a time limit on every call, and, when given, the module's resilience policy around each call.
 * Failures become ToolErrors a caller can act on; a socket error never escapes.
 */
export class OrthancClient {
  readonly #pool: Pool;
  readonly #authorization: string | undefined;
  readonly #basePath: string;
  readonly #resilience: BackendResilience | undefined;

  constructor(
    private readonly settings: OrthancSettings,
    resilience?: BackendResilience,
  ) {
    const url = new URL(settings.url);
    this.#basePath = url.pathname.replace(/\/$/, '');
    this.#resilience = resilience;
    this.#pool = new Pool(url.origin, {
      connections: settings.connections ?? 16,
      keepAliveTimeout: 30_000,
      // Orthanc answers `Keep-Alive: timeout=1`; undici subtracts this margin from the server's timeout
      // (1 s by default, which left 0 and closed the socket after every answer: a new TCP connection per
      // request). 100 ms keeps connections open between requests while still retiring them before Orthanc.
      keepAliveTimeoutThreshold: 100,
      connectTimeout: Math.min(settings.timeoutMs, 5_000),
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
    });
    this.#authorization =
      settings.username !== undefined
        ? `Basic ${Buffer.from(`${settings.username}:${settings.password ?? ''}`).toString('base64')}`
        : undefined;
  }

  /** The circuit breaker's state, when this client has a resilience policy. */
  get breakerState(): BreakerState | undefined {
    return this.#resilience?.state;
  }

  async getJson<T>(path: string, options: CallOptions = {}): Promise<T> {
    return parseJson<T>(await this.send({ method: 'GET', path, ...options }));
  }

  /** POST with a JSON body. `idempotent` marks queries such as `/tools/find` that may be retried. */
  async postJson<T>(
    path: string,
    body: unknown,
    options: CallOptions & { idempotent?: boolean } = {},
  ): Promise<T> {
    const reply = await this.send({
      method: 'POST',
      path,
      body: JSON.stringify(body),
      contentType: 'application/json',
      ...options,
    });
    return parseJson<T>(reply);
  }

  async send(request: OrthancRequest): Promise<OrthancReply> {
    const idempotent = request.idempotent ?? request.method === 'GET';
    if (this.#resilience) {
      return this.#resilience.run((signal) => this.#attempt(request, signal), {
        idempotent,
        operation: operationLabel(request.method, request.path),
        signal: request.signal,
        ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}),
      });
    }
    // Without a policy (e.g. `upc-mcp doctor`) the time limit is still enforced.
    const limit = AbortSignal.timeout(request.timeoutMs ?? this.settings.timeoutMs);
    return this.#attempt(request, request.signal ? AbortSignal.any([limit, request.signal]) : limit);
  }

  async #attempt(request: OrthancRequest, signal: AbortSignal): Promise<OrthancReply> {
    const headers: Record<string, string> = {};
    if (this.#authorization) headers.authorization = this.#authorization;
    if (request.contentType) headers['content-type'] = request.contentType;
    if (request.accept) headers.accept = request.accept;
    const where = `${request.method} ${request.path.split('?')[0]}`;
    let status: number;
    let contentType: string;
    let body: Buffer;
    try {
      const response = await this.#pool.request({
        method: request.method,
        path: `${this.#basePath}${request.path}`,
        headers,
        body: request.body ?? null,
        signal,
      });
      status = response.statusCode;
      contentType = String(response.headers['content-type'] ?? '');
      const length = Number(response.headers['content-length'] ?? 0);
      if (length > MAX_RESPONSE_BYTES) {
        await response.body.dump();
        throw new ToolError('INTERNAL', `The PACS answer to ${where} is too large (${length} bytes).`);
      }
      body = Buffer.from(await response.body.arrayBuffer());
    } catch (error) {
      if (error instanceof ToolError) throw error;
      throw transportError(error, this.settings.timeoutMs);
    }
    if (status < 400) return { status, contentType, body };
    throw httpError(status, where, body);
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}

function parseJson<T>(reply: OrthancReply): T {
  try {
    return JSON.parse(reply.body.toString('utf8')) as T;
  } catch {
    throw new ToolError('UPSTREAM_UNAVAILABLE', 'The PACS sent an answer that is not JSON.', {
      upstream_status: reply.status,
    });
  }
}

/** Orthanc explains its errors as JSON (`HttpDescribeErrors`); keep the useful sentence. */
function orthancReason(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as { Details?: string; Message?: string };
    return (parsed.Details || parsed.Message || '').slice(0, 300);
  } catch {
    return text.slice(0, 300);
  }
}

function httpError(status: number, where: string, body: Buffer): ToolError {
  const reason = orthancReason(body);
  const details = { upstream_status: status, upstream_message: reason };
  if (status === 404) {
    return new ToolError('NOT_FOUND', `The PACS has no such object (${where}).`, details);
  }
  if (status === 401 || status === 403) {
    return new ToolError(
      'UPSTREAM_UNAVAILABLE',
      'The PACS refused our credentials; check ORTHANC_USERNAME and ORTHANC_PASSWORD.',
      details,
    );
  }
  if (status < 500) {
    // Orthanc answers 400 to requests it cannot process (bad DICOM, bad options): the caller's input.
    return new ToolError('INVALID_PARAMETERS', `The PACS refused the request: ${reason || where}`, details);
  }
  return new ToolError('UPSTREAM_UNAVAILABLE', `The PACS answered ${status} to ${where}.`, details);
}

function transportError(error: unknown, timeoutMs: number): ToolError {
  const name = (error as { name?: string }).name ?? '';
  const code = (error as { code?: string }).code ?? '';
  if (name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new ToolError(
      'UPSTREAM_TIMEOUT',
      `The PACS did not answer within ${timeoutMs} ms. Try again shortly.`,
    );
  }
  if (name === 'AbortError') return new ToolError('CONFLICT', 'The call was cancelled.');
  return new ToolError(
    'UPSTREAM_UNAVAILABLE',
    'The PACS (Orthanc) cannot be reached. Check that it is running and ORTHANC_URL is right.',
    { cause: code || name },
  );
}

/** `GET /studies` for `GET /studies/abc/series?expand`: ids and queries stay out of metric labels. */
function operationLabel(method: string, path: string): string {
  const first = path.split('?')[0]?.split('/').filter(Boolean)[0] ?? '';
  return `${method} /${first}`;
}
