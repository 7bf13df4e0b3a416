import type { GetPromptResult, Prompt } from '@modelcontextprotocol/server';
import type { PromptDefinition } from '../core/prompts.js';

export function wirePrompt(prompt: PromptDefinition): Prompt {
  return {
    name: prompt.name,
    title: prompt.title,
    description: prompt.description,
    arguments: prompt.arguments.map(({ name, description, required }) => ({ name, description, required })),
  };
}

export function renderPrompt(
  prompt: PromptDefinition,
  args: Readonly<Record<string, string>>,
): GetPromptResult {
  return {
    description: prompt.description,
    messages: [{ role: 'user', content: { type: 'text', text: prompt.render(args) } }],
  };
}
