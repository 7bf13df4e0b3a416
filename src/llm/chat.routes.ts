import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Clock } from '../core/clock.js';
import type { Principal, Role } from '../core/context.js';
import { markAudited } from '../core/door-events.js';
import { ToolError } from '../core/errors.js';
import { type Authenticator, type InvocationPipeline, validate } from '../core/pipeline.js';
import type { ToolRegistry } from '../core/registry.js';
import { BackendResilience } from '../core/resilience.js';
import type { BackendTelemetry } from '../core/telemetry.js';
import { bearerToken } from '../http/bearer.js';
import { abortOnClientGone } from '../http/disconnect.js';
import { ChatAgent } from './chat.agent.js';
import { deleteSession } from './chat.sessions.js';
import { OpenAiCompatibleProvider } from './openai.js';

const chatBody = z
  .object({
    message: z.string().min(1).max(5000),
    session_id: z.uuid().optional(),
  })
  .strict();

const confirmBody = z
  .object({
    session_id: z.uuid(),
    confirmation_token: z.string().min(1).max(2000),
  })
  .strict();

export interface ChatRoutesOptions {
  config: Config;
  pipeline: InvocationPipeline;
  registry: ToolRegistry;
  authenticator: Authenticator;
  allows: (role: Role, permission: string) => boolean;
  // biome-ignore lint/suspicious/noExplicitAny: the shared database handle (src/db/database.ts)
  db: Kysely<any>;
  clock: Clock;
  telemetry: BackendTelemetry;
  describeNow?: () => Promise<string>;
}

/** Why the chat agent cannot run with this configuration, or undefined when it can. */
export function chatUnavailable(config: Config): ToolError | undefined {
  const missing = [
    ...(config.LLM_BASE_URL ? [] : ['LLM_BASE_URL']),
    ...(config.LLM_MODEL ? [] : ['LLM_MODEL']),
  ];
  if (missing.length > 0)
    return new ToolError(
      'UPSTREAM_UNAVAILABLE',
      `The chat agent has no language model configured: set ${missing.join(' and ')} (an OpenAI-compatible ` +
        'endpoint, e.g. LLM_BASE_URL=http://127.0.0.1:11434/v1 and LLM_MODEL=qwen2.5:7b-instruct for Ollama; ' +
        'LLM_API_KEY if it needs one). See docs/AGENT.md.',
      { missing_settings: missing },
    );
  if (config.LLM_PROVIDER_LOCATION === 'external')
    return new ToolError(
      'UPSTREAM_UNAVAILABLE',
      'The chat agent refuses an external model provider until the PHI guard is built: patient data may not ' +
        'leave the practice. Use a model inside the practice and set LLM_PROVIDER_LOCATION=local.',
      { setting: 'LLM_PROVIDER_LOCATION' },
    );
  return undefined;
}

/** The chat door: POST /mcp/v1/chat, POST /mcp/v1/chat/confirm, DELETE /mcp/v1/chat/sessions/:id. */
export async function chatRoutes(app: FastifyInstance, options: ChatRoutesOptions): Promise<void> {
  const { config } = options;
  const unavailable = chatUnavailable(config);
  const agent = unavailable
    ? undefined
    : new ChatAgent(
        {
          pipeline: options.pipeline,
          registry: options.registry,
          allows: options.allows,
          db: options.db,
          clock: options.clock,
          budgets: {
            maxSteps: config.CHAT_MAX_STEPS,
            maxMs: config.CHAT_MAX_SECONDS * 1000,
            maxTokens: config.CHAT_MAX_TOKENS,
            sessionTtlMs: config.CHAT_SESSION_TTL_MINUTES * 60_000,
            maxHistoryMessages: config.CHAT_MAX_HISTORY_MESSAGES,
          },
          ...(options.describeNow ? { describeNow: options.describeNow } : {}),
        },
        new OpenAiCompatibleProvider(
          {
            baseUrl: config.LLM_BASE_URL!,
            model: config.LLM_MODEL!,
            apiKey: config.LLM_API_KEY,
            location: config.LLM_PROVIDER_LOCATION,
          },
          new BackendResilience(
            { backend: 'llm', label: 'The language model' },
            {
              timeoutMs: config.LLM_TIMEOUT_MS,
              retries: 1,
              breakerThreshold: 5,
              breakerCooldownMs: 30_000,
              maxConcurrency: 8,
            },
            options.telemetry,
          ),
        ),
      );

  const signedIn = (request: FastifyRequest): Promise<Principal> =>
    options.authenticator.authenticate(bearerToken(request));
  const ready = (): ChatAgent => {
    if (!agent) throw unavailable!;
    return agent;
  };

  app.post('/mcp/v1/chat', async (request, reply) => {
    const principal = await signedIn(request);
    const body = validate(chatBody, request.body);
    const chat = ready();
    markAudited(request.raw); // every tool call is audited by the pipeline with door `chat`
    return chat.chat(principal, body.message, body.session_id, request.id, abortOnClientGone(reply));
  });

  app.post('/mcp/v1/chat/confirm', async (request, reply) => {
    const principal = await signedIn(request);
    const body = validate(confirmBody, request.body);
    const chat = ready();
    markAudited(request.raw);
    return chat.confirm(
      principal,
      body.session_id,
      body.confirmation_token,
      request.id,
      abortOnClientGone(reply),
    );
  });

  app.delete<{ Params: { id: string } }>('/mcp/v1/chat/sessions/:id', async (request) => {
    const principal = await signedIn(request);
    const { id } = validate(z.object({ id: z.uuid() }).strict(), request.params);
    if (!(await deleteSession(options.db, id, principal.subject)))
      throw new ToolError('NOT_FOUND', 'No such chat session (it expired, was deleted, or is not yours).', {
        session_id: id,
      });
    return { deleted: true, session_id: id };
  });
}
