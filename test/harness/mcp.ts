import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { z } from 'zod';
import { ToolError } from '../../src/core/errors.js';
import { defineTool } from '../../src/core/tool.js';

export type Era = '2025' | '2026';
export const ERAS: Era[] = ['2025', '2026'];

export interface ConnectOptions {
  token?: string;
  /** Answer for elicitation requests (both the 2025 push style and 2026 input_required rounds). */
  confirm?: boolean;
}

/** An SDK v2 client on the given era, with a bearer token and (optionally) a form-capable person. */
export async function connectMcp(url: string, era: Era, options: ConnectOptions = {}): Promise<Client> {
  const client = new Client(
    { name: 'upc-test-client', version: '1.0.0' },
    {
      capabilities: options.confirm === undefined ? {} : { elicitation: { form: {} } },
      ...(era === '2026' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {}),
    },
  );
  if (options.confirm !== undefined) {
    const accept = options.confirm;
    client.setRequestHandler('elicitation/create', async () =>
      accept ? { action: 'accept', content: { confirm: true } } : { action: 'decline' },
    );
  }
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    ...(options.token ? { authProvider: { token: async () => options.token } } : {}),
  });
  await client.connect(transport);
  return client;
}

/** Test-only tools: a slow one that reports progress and honours cancellation, and one needing confirmation. */
export function testTools(state: { cancelled: number; sent: number }) {
  return [
    defineTool({
      name: 'test_count_slowly',
      title: 'Count slowly',
      description: 'Counts to `to`, one step every 30 ms, reporting progress (test fixture).',
      input: z.object({
        to: z.number().int().min(1).max(1000),
        modality: z.enum(['CT', 'MR', 'US']).optional(),
      }),
      output: z.object({ counted: z.number().int() }),
      permission: 'pacs:search',
      annotations: { readOnlyHint: true },
      phi: false,
      async handler({ to }, ctx) {
        for (let i = 1; i <= to; i++) {
          if (ctx.signal.aborted) {
            state.cancelled++;
            throw new Error('cancelled');
          }
          await new Promise((resolve) => setTimeout(resolve, 30));
          ctx.reportProgress({ progress: i, total: to, message: `step ${i}` });
        }
        return { counted: to };
      },
    }),
    defineTool({
      name: 'test_send_study',
      title: 'Send a study',
      description: 'Pretends to send a study to a destination; needs confirmation (test fixture).',
      input: z.object({
        study_instance_uid: z.string().min(1),
        destination: z.enum(['ARCHIVE', 'REFERRER']),
      }),
      output: z.object({ sent: z.literal(true), destination: z.string() }),
      permission: 'pacs:send',
      annotations: { readOnlyHint: false, destructiveHint: false },
      phi: true,
      confirmation: true,
      describeAction: async ({ study_instance_uid, destination }) =>
        `Send study ${study_instance_uid} to ${destination}.`,
      async handler({ destination }) {
        state.sent++;
        return { sent: true as const, destination };
      },
    }),
  ];
}

/** A read-only lookup backing a test resource template (`test-study://{uid}`). */
export const testStudyLookup = defineTool({
  name: 'test_get_study',
  title: 'Get a study',
  description: 'Looks up a study by UID (test fixture): 1.2.3 exists, anything else is NOT_FOUND.',
  input: z.object({ study_instance_uid: z.string().min(1) }),
  output: z.object({ study_instance_uid: z.string(), modality: z.string() }),
  permission: 'pacs:read',
  annotations: { readOnlyHint: true },
  phi: true,
  async handler({ study_instance_uid }) {
    if (study_instance_uid !== '1.2.3') throw new ToolError('NOT_FOUND', `No study ${study_instance_uid}.`);
    return { study_instance_uid, modality: 'CT' };
  },
});

/** The error body of an `isError` tool result: our error JSON travels in the text block. */
// biome-ignore lint/suspicious/noExplicitAny: test results are inspected field by field
export function errorOf(result: { isError?: boolean; content?: unknown }): any {
  const blocks = (result.content ?? []) as { type: string; text?: string }[];
  const text = blocks.find((block) => block.type === 'text')?.text;
  if (!result.isError || text === undefined)
    throw new Error(`not an error result: ${JSON.stringify(result)}`);
  return JSON.parse(text);
}
