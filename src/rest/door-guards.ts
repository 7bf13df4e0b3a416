import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Door } from '../core/context.js';
import { recordDoorEvent, requestFacts, wasAudited } from '../core/door-events.js';
import { type ErrorCode, errorBody, isToolError, ToolError } from '../core/errors.js';
import type { AuditSink, Authenticator } from '../core/pipeline.js';
import { bearerToken } from '../http/bearer.js';

/** Paths whose every refusal is audited: the doors to tools, sign-in and the audit routes. */
const DOOR_PREFIXES = ['/mcp', '/auth/', '/console/invoke', '/admin/'];
/** Above this size a request body is read only after its bearer token has been checked. */
const EARLY_AUTH_BYTES = 64 * 1024;

const CODE_FOR_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'INVALID_PARAMETERS',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'INVALID_PARAMETERS',
  429: 'RATE_LIMITED',
  503: 'UPSTREAM_UNAVAILABLE',
};

function isDoorPath(url: string): boolean {
  return DOOR_PREFIXES.some((prefix) => url.startsWith(prefix));
}

function doorOf(url: string): Door {
  if (url.startsWith('/mcp/v1')) return 'rest';
  if (url.startsWith('/mcp')) return 'mcp';
  if (url.startsWith('/console')) return 'console';
  return 'rest';
}

/**
 * Refusals at the door are audited too: a request answered with an error before any tool ran (a Host or
 * Origin refused, JSON that does not parse, a body too large, an unknown route under a door) writes one
 * event naming the reason. Requests the pipeline or a door already audited are not recorded twice.
 */
export function auditDoorRefusals(app: FastifyInstance, audit: AuditSink): void {
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode < 400 || !isDoorPath(request.url) || wasAudited(request.raw)) return;
    const status = reply.statusCode;
    await recordDoorEvent(audit, request.log, {
      ...requestFacts(request),
      door: doorOf(request.url),
      tool: 'http:refused',
      parameters: { method: request.method, path: request.url.split('?')[0], status },
      outcome: status === 401 || status === 403 ? 'denied' : 'error',
      errorCode: CODE_FOR_STATUS[status] ?? 'INTERNAL',
      durationMs: reply.elapsedTime,
    });
  });
}

/**
 * A large body is read only for a caller whose token checks out: an anonymous client cannot make the
 * server parse tens of megabytes. Small bodies take the normal path (the door answers in its own shape).
 */
export function authenticateBeforeLargeBodies(app: FastifyInstance, authenticator: Authenticator): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST' || !isDoorPath(request.url) || request.url.startsWith('/auth/')) return;
    if (declaredLength(request) <= EARLY_AUTH_BYTES) return;
    try {
      await authenticator.authenticate(bearerToken(request));
    } catch (error) {
      const refusal = isToolError(error)
        ? error
        : new ToolError('UNAUTHENTICATED', 'The bearer token was not accepted.');
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="upc-mcp"')
        .header('connection', 'close')
        .send({ success: false, error: errorBody(refusal, request.id) });
    }
  });
}

function declaredLength(request: FastifyRequest): number {
  const header = request.headers['content-length'];
  if (header === undefined) return request.headers['transfer-encoding'] ? Number.POSITIVE_INFINITY : 0;
  const length = Number(header);
  return Number.isFinite(length) ? length : Number.POSITIVE_INFINITY;
}
