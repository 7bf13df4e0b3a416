import {
  type CallToolResult,
  type InputRequiredResult,
  ProtocolError,
  ProtocolErrorCode,
  type RequestStateCodec,
  type Server,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { requestFor } from '../core/caller.js';
import { errorBody } from '../core/errors.js';
import type { InvocationPipeline } from '../core/pipeline.js';
import type { McpCaller } from './caller.js';
import { askNow, askThroughClient, confirmationRoute, readSecondRound } from './confirmation.js';
import type { InFlightCalls } from './in-flight.js';
import { progressReporter, requestFacts } from './request-context.js';
import { errorResult, successResult } from './results.js';
import { splitArguments, type ToolCatalog } from './tool-catalog.js';

export interface ToolCallDeps {
  pipeline: InvocationPipeline;
  catalog: ToolCatalog;
  requestState: RequestStateCodec<unknown>;
  /** Set on HTTP: lets a stateless 2025-era `notifications/cancelled` reach this call. */
  inFlight?: InFlightCalls;
}

/**
 * `tools/call` for a registry tool. The MCP door only translates: every call, including each round of a
 * confirmation, goes through `pipeline.invoke` (authenticate → ... → audit), never to a handler directly.
 */
export async function callRegistryTool(
  deps: ToolCallDeps,
  caller: McpCaller,
  server: Server,
  name: string,
  rawArguments: unknown,
  ctx: ServerContext,
): Promise<CallToolResult | InputRequiredResult> {
  const registered = deps.catalog.get(name);
  const args = splitArguments(registered?.descriptor, rawArguments);
  const facts = requestFacts(server, ctx);
  const client = facts.client ?? caller.client;
  const request = requestFor({ ...caller, client }, 'mcp', name, args.parameters, {
    signal: ctx.mcpReq.signal,
    confirmHow:
      'call the tool again with the same arguments plus "confirmation_token" set to details.confirmation_token.',
    onProgress: progressReporter(ctx),
    idempotencyKey: args.idempotencyKey,
    confirmationToken: args.confirmationToken,
  });
  const requestId = request.requestId;

  const route =
    registered?.descriptor.confirmation && !args.confirmationToken ? confirmationRoute(facts) : 'token';
  if (route === 'ask-now') request.confirm = askNow(ctx);
  if (route === 'input-required') {
    const round = readSecondRound(ctx);
    if (round.kind === 'confirmed') request.confirmationToken = round.token;
    // A refusal still goes through the pipeline, so the declined attempt is audited like any other.
    if (round.kind === 'declined') request.confirm = async () => false;
  }

  const tracked =
    facts.era === 'legacy' && deps.inFlight
      ? deps.inFlight.track(caller.principal.subject, ctx.mcpReq.id, ctx.mcpReq.signal)
      : undefined;
  if (tracked) request.signal = tracked.signal;
  let outcome: Awaited<ReturnType<InvocationPipeline['invoke']>>;
  try {
    outcome = await deps.pipeline.invoke(request);
  } finally {
    tracked?.done();
  }
  if (outcome.ok) return successResult(outcome.result);
  const error = outcome.error;
  if (error.code === 'TOOL_NOT_FOUND') {
    // Unknown tools are a protocol error in MCP (the call was audited above all the same).
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `Unknown tool: ${name}`,
      errorBody(error, requestId),
    );
  }
  const token = error.details?.confirmation_token;
  const summary = error.details?.summary;
  if (route === 'input-required' && error.code === 'CONFIRMATION_REQUIRED' && typeof token === 'string') {
    const question = typeof summary === 'string' ? summary : `${registered!.descriptor.title}.`;
    return askThroughClient(deps.requestState, ctx, question, token);
  }
  return errorResult(error, requestId);
}
