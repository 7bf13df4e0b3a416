import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { callerWithId, requestFor } from '../core/caller.js';
import { markAudited } from '../core/door-events.js';
import { errorBody, httpStatusOf } from '../core/errors.js';
import type { InvocationPipeline, InvocationResult } from '../core/pipeline.js';
import { validate } from '../core/pipeline.js';
import type { ToolRegistry } from '../core/registry.js';
import { bearerToken } from '../http/bearer.js';
import { abortOnClientGone } from '../http/disconnect.js';
import { clientRequestId } from '../observability/logging.js';

const DOOR_ARGUMENTS = ['confirmation_token', 'idempotency_key'] as const;

const invokeBody = z
  .object({
    tool: z.string().min(1).max(128),
    parameters: z
      .record(z.string(), z.unknown())
      .default({})
      .superRefine((parameters, ctx) => {
        for (const name of DOOR_ARGUMENTS) {
          if (Object.hasOwn(parameters, name))
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: `goes in "context", not in "parameters": {"tool": ..., "parameters": {...}, "context": {"${name}": "..."}}`,
            });
        }
      }),
    context: z
      .object({
        idempotency_key: z.string().min(1).max(200).optional(),
        confirmation_token: z.string().min(1).max(2000).optional(),
        session_id: z.string().max(200).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** How each REST route takes a confirmation token back: named in every CONFIRMATION_REQUIRED answer. */
export const CONFIRM_HOW = {
  invoke:
    'send the same request again with "context": {"confirmation_token": "<details.confirmation_token>"} beside ' +
    '"tool" and "parameters" (POST /mcp/v1/invoke).',
  perTool:
    'send the same request again with the header "X-Confirmation-Token: <details.confirmation_token>" ' +
    '(POST /mcp/v1/tools/{name}/invoke).',
} as const;

export interface ToolRoutesOptions {
  registry: ToolRegistry;
  pipeline: InvocationPipeline;
  /** With a bearer token, GET /mcp/v1/tools lists only the tools that caller may use: its grants. */
  grantsFor?: (bearer: string) => Promise<(permission: string) => boolean>;
}

/** The seed's REST door: list tools, invoke one. Identity always comes from the bearer token, never the body. */
export async function toolRoutes(
  app: FastifyInstance,
  { registry, pipeline, grantsFor }: ToolRoutesOptions,
): Promise<void> {
  app.get('/mcp/v1/tools', async (request) => {
    // A signed-in client (the console) asks which tools it may use, instead of probing and being refused.
    const bearer = bearerToken(request);
    const allows = bearer && grantsFor ? await grantsFor(bearer).catch(() => () => false) : undefined;
    const listed = allows ? registry.listAllowed(allows) : registry.list();
    const tools = listed.map(({ descriptor }) => ({
      name: descriptor.name,
      title: descriptor.title,
      description: descriptor.description,
      module: descriptor.module,
      permission: descriptor.permission,
      requires_confirmation: descriptor.confirmation,
      annotations: descriptor.annotations,
      input_schema: descriptor.input_schema,
      output_schema: descriptor.output_schema,
      examples: descriptor.examples,
    }));
    return { tools, count: tools.length };
  });

  // The console's own route: the server, not a header the caller sets, decides which door a call used.
  for (const [path, door] of [
    ['/mcp/v1/invoke', 'rest'],
    ['/console/invoke', 'console'],
  ] as const) {
    app.post(path, async (request, reply) => {
      const body = validate(invokeBody, request.body, { textCheckedLater: 'parameters' });
      return invokeThroughPipeline(pipeline, request, reply, body.tool, body.parameters, {
        ...body.context,
        confirmHow: CONFIRM_HOW.invoke,
        door,
      });
    });
  }

  // One route per tool, so the OpenAPI document can show each tool's own request and response schema.
  app.post<{ Params: { name: string } }>('/mcp/v1/tools/:name/invoke', async (request, reply) => {
    const headers = request.headers;
    const context = {
      idempotency_key:
        typeof headers['idempotency-key'] === 'string' ? headers['idempotency-key'] : undefined,
      confirmation_token:
        typeof headers['x-confirmation-token'] === 'string' ? headers['x-confirmation-token'] : undefined,
      confirmHow: CONFIRM_HOW.perTool,
    };
    return invokeThroughPipeline(pipeline, request, reply, request.params.name, request.body ?? {}, context);
  });
}

async function invokeThroughPipeline(
  pipeline: InvocationPipeline,
  request: FastifyRequest,
  reply: FastifyReply,
  tool: string,
  parameters: unknown,
  context: InvokeContext = {},
) {
  return sendOutcome(request, reply, await runTool(pipeline, request, reply, tool, parameters, context));
}

export interface InvokeContext {
  idempotency_key?: string | undefined;
  confirmation_token?: string | undefined;
  /** How this route takes a confirmation token back (named in CONFIRMATION_REQUIRED). */
  confirmHow?: string;
  /** The door, from the route the call came in on (default REST). */
  door?: 'rest' | 'console';
}

/** Runs a tool for an HTTP request: identity from its bearer token, cancelled if the client goes away. */
export async function runTool(
  pipeline: InvocationPipeline,
  request: FastifyRequest,
  reply: FastifyReply,
  tool: string,
  parameters: unknown,
  context: InvokeContext = {},
): Promise<InvocationResult> {
  markAudited(request.raw); // the pipeline audits every call, allowed or refused
  const caller = callerWithId(request.id, { bearer: bearerToken(request) }, clientLabel(request), request.ip);
  return pipeline.invoke(
    requestFor(caller, context.door ?? 'rest', tool, parameters, {
      signal: abortOnClientGone(reply),
      idempotencyKey: context.idempotency_key,
      confirmationToken: context.confirmation_token,
      confirmHow: context.confirmHow,
    }),
  );
}

/** The REST envelope for a pipeline outcome, with the status and headers its error code implies. */
export function sendOutcome(request: FastifyRequest, reply: FastifyReply, outcome: InvocationResult) {
  const executionTimeMs = Math.round(outcome.durationMs * 100) / 100;
  if (outcome.ok) {
    return {
      success: true,
      result: outcome.result,
      execution_time_ms: executionTimeMs,
      request_id: request.id,
    };
  }
  const error = outcome.error;
  if (error.code === 'UNAUTHENTICATED') void reply.header('www-authenticate', 'Bearer realm="upc-mcp"');
  const retryAfter = error.details?.retry_after_seconds;
  if (error.code === 'RATE_LIMITED' && typeof retryAfter === 'number')
    void reply.header('retry-after', String(retryAfter));
  return reply.status(httpStatusOf(error.code)).send({
    success: false,
    error: errorBody(error, request.id),
    execution_time_ms: executionTimeMs,
  });
}

/** Who is calling, for the audit log: the user agent, and the caller's own request id when it sent one. */
export function clientLabel(request: FastifyRequest): string {
  const agent = request.headers['user-agent'] ?? 'unknown';
  const theirs = clientRequestId(request.headers);
  return theirs ? `${agent} [x-request-id ${theirs}]` : agent;
}
