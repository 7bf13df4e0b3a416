export interface PromptArgumentDefinition {
  name: string;
  description: string;
  required: boolean;
  /** Name of a tool parameter whose enum values complete this argument (see completions.ts). */
  completeFrom?: string;
}

/** A prompt: text that starts a piece of work with the right tools, offered to roles that may do it. */
export interface PromptDefinition {
  name: string;
  title: string;
  description: string;
  /**
   * The tools the prompt tells the model to use. It is offered only when every one of them is registered
   * and the caller may use it, so a prompt never points at a tool that is not there.
   */
  tools: readonly string[];
  arguments: PromptArgumentDefinition[];
  render(args: Readonly<Record<string, string>>): string;
}

/** `text(value)` when the argument was given, else nothing: for optional parts of a prompt. */
export function optionalPart(
  args: Readonly<Record<string, string>>,
  name: string,
  text: (value: string) => string,
): string {
  const value = args[name];
  return value ? text(value) : '';
}
