import { Pool } from 'undici';
import { ToolError } from '../../core/errors.js';

export interface OrthancSettings {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  timeoutMs: number;
}

/**
 * HTTP client for Orthanc's REST API: one keep-alive pool, Basic auth, a timeout on every call. Transport
 * failures become UPSTREAM_UNAVAILABLE / UPSTREAM_TIMEOUT so callers never see a socket error.
 */
export class OrthancClient {
  readonly #pool: Pool;
  readonly #authorization: string | undefined;
  readonly #basePath: string;

  constructor(private readonly settings: OrthancSettings) {
    const url = new URL(settings.url);
    this.#basePath = url.pathname.replace(/\/$/, '');
    this.#pool = new Pool(url.origin, {
      connections: 32,
      keepAliveTimeout: 30_000,
      connectTimeout: Math.min(settings.timeoutMs, 5_000),
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
    });
    this.#authorization =
      settings.username !== undefined
        ? `Basic ${Buffer.from(`${settings.username}:${settings.password ?? ''}`).toString('base64')}`
        : undefined;
  }

  async getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
    return (await this.request('GET', path, { signal })).json() as Promise<T>;
  }

  async postJson<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.request('POST', path, {
      body: JSON.stringify(body),
      contentType: 'application/json',
      signal,
    });
    return response.json() as Promise<T>;
  }

  async request(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    options: {
      body?: string | Uint8Array;
      contentType?: string;
      accept?: string;
      signal?: AbortSignal | undefined;
    } = {},
  ): Promise<{
    status: number;
    json(): Promise<unknown>;
    bytes(): Promise<Uint8Array>;
    contentType: string;
  }> {
    const headers: Record<string, string> = {};
    if (this.#authorization) headers.authorization = this.#authorization;
    if (options.contentType) headers['content-type'] = options.contentType;
    if (options.accept) headers.accept = options.accept;
    let response: Awaited<ReturnType<Pool['request']>>;
    try {
      response = await this.#pool.request({
        method,
        path: `${this.#basePath}${path}`,
        headers,
        body: options.body ?? null,
        signal: options.signal ?? AbortSignal.timeout(this.settings.timeoutMs),
      });
    } catch (error) {
      throw transportError(error, this.settings.timeoutMs);
    }
    const contentType = String(response.headers['content-type'] ?? '');
    if (response.statusCode === 404) {
      await response.body.dump();
      throw new ToolError('NOT_FOUND', `The PACS has no such object (${method} ${path.split('?')[0]}).`);
    }
    if (response.statusCode === 401 || response.statusCode === 403) {
      await response.body.dump();
      throw new ToolError(
        'UPSTREAM_UNAVAILABLE',
        'The PACS refused our credentials; check ORTHANC_USERNAME and ORTHANC_PASSWORD.',
      );
    }
    if (response.statusCode >= 400) {
      const text = await response.body.text();
      throw new ToolError(
        'UPSTREAM_UNAVAILABLE',
        `The PACS answered ${response.statusCode} to ${method} ${path.split('?')[0]}.`,
        {
          upstream_status: response.statusCode,
          upstream_message: text.slice(0, 300),
        },
      );
    }
    const body = response.body;
    return {
      status: response.statusCode,
      contentType,
      json: () => body.json(),
      bytes: async () => new Uint8Array(await body.arrayBuffer()),
    };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}

function transportError(error: unknown, timeoutMs: number): ToolError {
  const name = (error as { name?: string; code?: string }).name ?? '';
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
    {
      cause: code || name,
    },
  );
}
