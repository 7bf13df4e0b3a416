import { z } from 'zod';
import { ToolError } from '../core/errors.js';
import type { BackendResilience } from '../core/resilience.js';
import type {
  ChatMessage,
  ChatProvider,
  Completion,
  CompletionRequest,
  ModelToolCall,
  ProviderLocation,
} from './provider.js';

export interface OpenAiSettings {
  /** e.g. http://127.0.0.1:11434/v1; `/chat/completions` is appended. */
  baseUrl: string;
  model: string;
  apiKey?: string | undefined;
  location: ProviderLocation;
}

/** What we read of a chat completions answer; servers differ in what else they send, so extra is allowed. */
const completionBody = z.object({
  choices: z
    .array(
      z.object({
        finish_reason: z.string().nullish(),
        message: z.object({
          content: z.string().nullish(),
          tool_calls: z
            .array(
              z.object({
                id: z.string().nullish(),
                function: z.object({
                  name: z.string(),
                  // OpenAI sends a JSON string; a few servers send the object itself.
                  arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
                }),
              }),
            )
            .nullish(),
        }),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: z.number().nullish(), completion_tokens: z.number().nullish() }).nullish(),
});

const MAX_ERROR_TEXT = 300;

/**
 * OpenAI-compatible chat completions (OpenAI, Ollama `/v1`, llama.cpp server with `--jinja`, vLLM with
 * `--enable-auto-tool-choice`, LM Studio): native tool calling, parallel tool calls, non-streaming. Every
 * call goes through the model's resilience policy (timeout, retry, breaker, bulkhead).
 */
export class OpenAiCompatibleProvider implements ChatProvider {
  readonly kind = 'openai-compatible';
  readonly model: string;
  readonly location: ProviderLocation;
  readonly #url: string;

  constructor(
    private readonly settings: OpenAiSettings,
    private readonly resilience: BackendResilience,
  ) {
    this.model = settings.model;
    this.location = settings.location;
    this.#url = `${settings.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  }

  async complete(request: CompletionRequest, signal?: AbortSignal): Promise<Completion> {
    const body: Record<string, unknown> = {
      model: this.model,
      messages: request.messages.map(toWire),
      stream: false,
    };
    if (request.tools.length > 0) {
      body.tools = request.tools.map((tool) => ({
        type: 'function',
        function: { name: tool.name, description: tool.description, parameters: tool.parameters },
      }));
      body.tool_choice = 'auto';
      body.parallel_tool_calls = true;
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
    };
    if (this.settings.apiKey) headers.authorization = `Bearer ${this.settings.apiKey}`;
    const payload = JSON.stringify(body);
    return this.resilience.run(
      async (attemptSignal) => {
        let response: Response;
        try {
          response = await fetch(this.#url, {
            method: 'POST',
            headers,
            body: payload,
            signal: attemptSignal,
          });
        } catch (error) {
          if (attemptSignal.aborted) throw error;
          throw new ToolError(
            'UPSTREAM_UNAVAILABLE',
            `The language model at ${this.settings.baseUrl} could not be reached: ${(error as Error).message}. ` +
              'Check LLM_BASE_URL and that the model server is running.',
          );
        }
        const text = await response.text();
        if (!response.ok)
          throw new ToolError(
            'UPSTREAM_UNAVAILABLE',
            `The language model answered HTTP ${response.status}: ${text.slice(0, MAX_ERROR_TEXT)}`,
            { upstream_status: response.status },
          );
        return parseCompletion(text);
      },
      { idempotent: true, signal, operation: 'chat.completions' },
    );
  }
}

function toWire(message: ChatMessage): Record<string, unknown> {
  if (message.role !== 'assistant' || !message.tool_calls || message.tool_calls.length === 0) return message;
  return {
    role: 'assistant',
    content: message.content,
    tool_calls: message.tool_calls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    })),
  };
}

function parseCompletion(text: string): Completion {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ToolError('UPSTREAM_UNAVAILABLE', 'The language model answered something that is not JSON.', {
      upstream_status: 502,
    });
  }
  const parsed = completionBody.safeParse(json);
  if (!parsed.success)
    throw new ToolError(
      'UPSTREAM_UNAVAILABLE',
      'The language model answered without a chat completion (no choices[0].message).',
      { upstream_status: 502 },
    );
  const choice = parsed.data.choices[0]!;
  const toolCalls: ModelToolCall[] = (choice.message.tool_calls ?? []).map((call, index) => ({
    id: call.id || `call_${index}`,
    name: call.function.name,
    arguments:
      typeof call.function.arguments === 'string'
        ? call.function.arguments
        : JSON.stringify(call.function.arguments ?? {}),
  }));
  return {
    text: choice.message.content ?? null,
    toolCalls,
    usage: {
      input: parsed.data.usage?.prompt_tokens ?? 0,
      output: parsed.data.usage?.completion_tokens ?? 0,
    },
    finishReason: choice.finish_reason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
  };
}
