import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type FastifyReply, type FastifyRequest, type FastifyServerOptions, LogController } from 'fastify';
import type { Config } from '../config.js';

/**
 * Log fields that may carry patient data or secrets. Tool parameters and results are never logged whole;
 * these paths catch them if someone logs an object that contains them.
 */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'password',
  '*.password',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'parameters',
  '*.parameters',
  'result',
  '*.result',
  'patient_name',
  '*.patient_name',
  'patient_id',
  '*.patient_id',
  'national_id',
  '*.national_id',
  'id_number',
  '*.id_number',
  'date_of_birth',
  '*.date_of_birth',
  'member_number',
  '*.member_number',
];

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The server names every request itself: the request id ties a response to its log lines and its audit
 * event, so a caller must not be able to choose it (or make two calls share one).
 */
export function requestIdFor(_req: IncomingMessage): string {
  return randomUUID();
}

/** A caller's own x-request-id, when it is a plain token: kept beside ours (logs, audit client field). */
export function clientRequestId(headers: IncomingMessage['headers']): string | undefined {
  const incoming = headers['x-request-id'];
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : undefined;
}

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.LOG_LEVEL,
    redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
    serializers: {
      // Query strings can hold patient identifiers (e.g. ?patient_id=...): log the path only.
      req: (req: { method: string; url: string; ip?: string }) => ({
        method: req.method,
        path: req.url.split('?')[0],
        ip: req.ip,
      }),
    },
  };
}

/**
 * One access-log line per request instead of Fastify's two ("incoming request" + "request completed"):
 * the completion line carries the request (method, path, ip) itself. Under load the extra line was a
 * measurable share of the server's CPU (serialising, path redaction, the write) and said nothing new.
 * Error, 5xx and stream log lines are Fastify's, unchanged.
 */
export class AccessLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}
