import {
  type ElicitRequestFormParams,
  type InputRequiredResult,
  inputRequired,
  inputResponse,
  type RequestStateCodec,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { ConfirmationPrompt } from '../core/pipeline.js';
import { canElicitForm, type RequestFacts } from './request-context.js';

/** Key of the confirmation question in an input-required result. */
export const CONFIRM_INPUT_KEY = 'confirm';

/** What the door carries between the two rounds of a 2026-07-28 confirmation. */
export interface ConfirmationState {
  /** The pipeline's own confirmation token: HMAC-bound to caller, tool and exact parameters, single use. */
  confirmation_token: string;
}

const confirmSchema = {
  type: 'object',
  properties: {
    confirm: {
      type: 'boolean',
      title: 'Confirm',
      description: 'Tick to let the assistant go ahead. Leave it unticked (or decline) to stop.',
    },
  },
  required: ['confirm'],
} satisfies ElicitRequestFormParams['requestedSchema'];

/**
 * How a confirmation tool gets a person's yes, chosen per request:
 * - `ask-now`: 2025-era connection whose client can show a form (stdio): the pipeline's `confirm` callback
 *   sends `elicitation/create` and waits.
 * - `input-required`: 2026-07-28 client that can show a form: answer `input_required` with the question and
 *   the pipeline's confirmation token sealed in `requestState`; the client retries with the answer.
 * - `token`: anything else (e.g. stateless 2025 HTTP, which has no way to ask): the pipeline answers
 *   CONFIRMATION_REQUIRED with a token the model passes back as `confirmation_token` after asking.
 */
export type ConfirmationRoute = 'ask-now' | 'input-required' | 'token';

export function confirmationRoute(facts: RequestFacts): ConfirmationRoute {
  if (!canElicitForm(facts.capabilities)) return 'token';
  return facts.era === 'modern' ? 'input-required' : 'ask-now';
}

/** The pipeline's `confirm` callback for the `ask-now` route. */
export function askNow(ctx: ServerContext): (prompt: ConfirmationPrompt) => Promise<boolean> {
  return async (prompt) => {
    const answer = await ctx.mcpReq.elicitInput({
      mode: 'form',
      message: questionFor(prompt.summary),
      requestedSchema: confirmSchema,
    });
    return answer.action === 'accept' && answer.content?.confirm === true;
  };
}

/** The second round's verdict: a token to redeem, a refusal, or nothing yet (ask again). */
export type SecondRound =
  | { kind: 'confirmed'; token: string }
  | { kind: 'declined' }
  | { kind: 'unanswered' };

export function readSecondRound(ctx: ServerContext): SecondRound {
  const state = ctx.mcpReq.requestState<ConfirmationState>();
  const answer = inputResponse(ctx.mcpReq.inputResponses, CONFIRM_INPUT_KEY);
  if (answer.kind !== 'elicit' || typeof state?.confirmation_token !== 'string')
    return { kind: 'unanswered' };
  if (answer.action === 'accept' && answer.content?.confirm === true) {
    return { kind: 'confirmed', token: state.confirmation_token };
  }
  return { kind: 'declined' };
}

/** The first round's answer: ask the person, carrying the pipeline's token in sealed state. */
export async function askThroughClient(
  codec: RequestStateCodec<unknown>,
  ctx: ServerContext,
  summary: string,
  token: string,
): Promise<InputRequiredResult> {
  return inputRequired({
    inputRequests: {
      [CONFIRM_INPUT_KEY]: inputRequired.elicit({
        message: questionFor(summary),
        requestedSchema: confirmSchema,
      }),
    },
    requestState: await codec.mint({ confirmation_token: token }, ctx),
  });
}

/** The question a person sees: what will happen, in words (the tool's own description of the action). */
function questionFor(summary: string): string {
  return `Please confirm: ${summary}`;
}
