import { type AuthInfo, createMcpHandler } from '@modelcontextprotocol/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { Principal } from '../core/context.js';
import { recordDoorEvent, requestFacts } from '../core/door-events.js';
import { errorBody, isToolError, ToolError } from '../core/errors.js';
import type { AuditSink, Authenticator } from '../core/pipeline.js';
import { bearerToken } from '../http/bearer.js';
import { abortOnClientGone } from '../http/disconnect.js';
import { type McpCaller, mcpCaller } from './caller.js';
import { rebindingGuard } from './http-guards.js';
import {
  bearerChallenge,
  PROTECTED_RESOURCE_PATH,
  protectedResourceMetadata,
  publicBase,
} from './protected-resource.js';
import type { McpSurface } from './surface.js';

export interface McpRoutesOptions {
  config: Config;
  surface: McpSurface;
  authenticator: Authenticator;
  /** Refused requests never reach the pipeline, so the door records them itself. */
  audit?: AuditSink | undefined;
}

/** The caller rides to the server factory in `authInfo.extra`, the SDK's pass-through for validated identity. */
const CALLER_KEY = 'upcCaller';

/**
 * `/mcp` over Streamable HTTP (2026-07-28 stateless, plus 2025-era clients on the same URL through the
 * SDK's stateless legacy leg) and the RFC 9728 metadata that tells clients how to authenticate.
 * An encapsulated plugin: its raw-body parser and guards apply to these routes only.
 */
export async function mcpRoutes(
  app: FastifyInstance,
  { config, surface, authenticator, audit }: McpRoutesOptions,
) {
  const handler = createMcpHandler(
    (ctx) => {
      const caller = ctx.authInfo?.extra?.[CALLER_KEY] as McpCaller | undefined;
      if (!caller) throw new Error('MCP request reached the server factory without an authenticated caller');
      return surface.createServer(caller, { sharedCancellation: true });
    },
    {
      maxRequestBodySize: config.BODY_LIMIT_BYTES,
      onerror: (error) => app.log.debug({ err: error }, 'mcp request rejected'),
    },
  );
  app.addHook('onClose', async () => handler.close());

  // The SDK parses JSON-RPC itself, so malformed bodies get JSON-RPC parse errors instead of Fastify's 400.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const sendMetadata = async (request: FastifyRequest) =>
    protectedResourceMetadata(config, publicBase(config, request));
  // Built from the configured public URL or an allowed Host only: an unknown Host is refused, never echoed.
  const guard = rebindingGuard(config.MCP_ALLOWED_HOSTS, config.MCP_ALLOWED_ORIGINS);
  app.get(PROTECTED_RESOURCE_PATH, { onRequest: guard }, sendMetadata);
  app.get(`${PROTECTED_RESOURCE_PATH}/mcp`, { onRequest: guard }, sendMetadata);

  app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: '/mcp',
    onRequest: rebindingGuard(config.MCP_ALLOWED_HOSTS, config.MCP_ALLOWED_ORIGINS),
    handler: async (request, reply) => {
      const token = bearerToken(request);
      const body = postBody(request);
      const parsed = parseJson(body);
      if (Array.isArray(parsed?.value) && batchesRemoved(request.headers['mcp-protocol-version'])) {
        return reply.code(400).send({
          jsonrpc: '2.0',
          id: null,
          error: {
            code: -32600,
            message: `JSON-RPC batches are not part of MCP ${String(request.headers['mcp-protocol-version'])}; send one message per request.`,
          },
        });
      }
      let principal: Principal;
      try {
        principal = await authenticator.authenticate(token);
      } catch (error) {
        await auditRefusal(audit, request, parsed?.value, error);
        return unauthorized(request, reply, error, config, token !== undefined);
      }
      const caller: McpCaller = mcpCaller(
        principal,
        () => request.id,
        request.headers['user-agent'] ?? 'unknown',
        request.ip,
      );
      const authInfo: AuthInfo = {
        token: token ?? '',
        clientId: principal.subject,
        scopes: [],
        extra: { [CALLER_KEY]: caller },
      };
      // A parsed body travels as `parsedBody` only: the SDK then never reads the request's own body.
      const webRequest = toWebRequest(request, reply, parsed ? undefined : body);
      const response = await handler.fetch(webRequest, {
        authInfo,
        ...(parsed && { parsedBody: parsed.value }),
      });
      return sendWebResponse(reply, response);
    },
  });
}

/** JSON-RPC batching was removed from MCP in 2025-06-18; 2025-03-26 clients (no header, or that one) keep it. */
function batchesRemoved(version: string | string[] | undefined): boolean {
  return typeof version === 'string' && version >= '2025-06-18';
}

function postBody(request: FastifyRequest): Buffer | undefined {
  const body = request.body;
  return request.method === 'POST' && Buffer.isBuffer(body) && body.length > 0 ? body : undefined;
}

/**
 * The body as JSON, when it is JSON. Handing it to the SDK parsed (its documented `parsedBody`) saves it
 * cloning the web request and reading the body stream back; a body that does not parse is left to the
 * SDK, which answers it with its JSON-RPC parse error as before.
 */
function parseJson(body: Buffer | undefined): { value: unknown } | undefined {
  if (!body) return undefined;
  try {
    return { value: JSON.parse(body.toString('utf8')) };
  } catch {
    return undefined;
  }
}

/**
 * Sends the SDK's answer. A JSON answer is complete when the SDK hands it over, so it goes out as one
 * string with a Content-Length (Fastify would otherwise pump the web stream chunk by chunk, chunked);
 * an SSE answer stays a stream, so progress notifications and keep-alives reach the client as they happen.
 */
async function sendWebResponse(reply: FastifyReply, response: Response): Promise<FastifyReply> {
  if (response.body === null || isEventStream(response)) return reply.send(response);
  reply.code(response.status);
  for (const [name, value] of response.headers) reply.header(name, value);
  return reply.send(await response.text());
}

function isEventStream(response: Response): boolean {
  return response.headers.get('content-type')?.startsWith('text/event-stream') ?? false;
}

/** The Fastify request as a web `Request`; its signal aborts when the client goes away mid-call. */
function toWebRequest(request: FastifyRequest, reply: FastifyReply, body: Buffer | undefined): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  return new Request(`http://${request.host}${request.url}`, {
    method: request.method,
    headers,
    body,
    signal: abortOnClientGone(reply),
  });
}

function unauthorized(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  config: Config,
  tokenWasSent: boolean,
): FastifyReply {
  if (!isToolError(error)) throw error;
  const shown =
    error.code === 'UNAUTHENTICATED'
      ? error
      : new ToolError('UNAUTHENTICATED', 'The bearer token was not accepted.');
  return reply
    .code(401)
    .header('www-authenticate', bearerChallenge(publicBase(config, request), tokenWasSent))
    .send(errorBody(shown, request.id));
}

/** What a refused request asked for: the tool of a tools/call, else the JSON-RPC method. */
function requestedTool(message: unknown): string {
  const { method, params } = (message ?? {}) as { method?: unknown; params?: { name?: unknown } };
  if (method === 'tools/call' && typeof params?.name === 'string') return params.name;
  return typeof method === 'string' ? `mcp:${method}` : 'mcp:request';
}

async function auditRefusal(
  audit: AuditSink | undefined,
  request: FastifyRequest,
  message: unknown,
  error: unknown,
): Promise<void> {
  if (!audit || !isToolError(error)) return;
  await recordDoorEvent(audit, request.log, {
    ...requestFacts(request),
    door: 'mcp',
    tool: requestedTool(message),
    parameters: {},
    outcome: 'denied',
    errorCode: 'UNAUTHENTICATED',
    durationMs: 0,
  });
}
