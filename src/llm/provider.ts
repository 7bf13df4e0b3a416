/**
 * The chat agent's view of a language model: one interface, whatever the wire protocol. Messages and tool
 * calls are kept in this neutral shape (and stored so in sessions); each provider translates to its wire.
 */

/** A tool call the model asked for. `arguments` is the model's raw JSON text: it may be malformed. */
export interface ModelToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: ModelToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

/** A tool as offered to the model: name, description and the JSON Schema of its parameters. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface Completion {
  text: string | null;
  toolCalls: ModelToolCall[];
  usage: { input: number; output: number };
  finishReason: string;
}

export interface CompletionRequest {
  messages: readonly ChatMessage[];
  tools: readonly ToolSpec[];
}

/**
 * Where the model runs. `local`: inside the practice. `external`: patient data would leave the practice
 * (POPIA), so the agent refuses until the PHI guard exists (docs/AGENT.md).
 */
export type ProviderLocation = 'local' | 'external';

export interface ChatProvider {
  readonly kind: string;
  readonly model: string;
  readonly location: ProviderLocation;
  /** One model turn. Throws ToolError UPSTREAM_UNAVAILABLE / UPSTREAM_TIMEOUT when the model fails. */
  complete(request: CompletionRequest, signal?: AbortSignal): Promise<Completion>;
}
