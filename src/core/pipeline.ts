import type { FastifyBaseLogger } from 'fastify';
import type { z } from 'zod';
import { type Caller, requestFor } from './caller.js';
import type { ConfirmationGate } from './confirmation.js';
import type { CallContext, Door, Principal, ProgressUpdate } from './context.js';
import { type ErrorCode, invalidParameters, isToolError, ToolError } from './errors.js';
import type { IdempotencyStore } from './idempotency.js';
import type { RegisteredTool, ToolRegistry } from './registry.js';
import { type PatientScope, PatientScopeResolver } from './scope.js';
import { hostileText } from './text.js';
import type { AnyTool, InputPermission } from './tool.js';

/** How the caller proved who they are: a bearer token to check, or a principal a door already checked. */
export type Credentials = { bearer: string | undefined } | { principal: Principal };

export interface InvocationRequest {
  tool: string;
  parameters: unknown;
  door: Door;
  requestId: string;
  credentials: Credentials;
  /** MCP client name/version or user agent, for audit. */
  client?: string;
  ip?: string;
  signal?: AbortSignal;
  onProgress?: (update: ProgressUpdate) => void;
  /** Retrying a write with the same key returns the first result instead of running it again. */
  idempotencyKey?: string;
  /** The token from an earlier CONFIRMATION_REQUIRED answer, for tools that need confirmation. */
  confirmationToken?: string;
  /** Asks the person directly (MCP elicitation); when absent, the two-step token is used. */
  confirm?: (request: ConfirmationPrompt) => Promise<boolean>;
  /** How this door takes a confirmation token back, for the CONFIRMATION_REQUIRED message. */
  confirmHow?: string;
  /** Set by `ctx.invoke`: the calling call, which audits this one with its own transaction. */
  calledBy?: NestedCalls;
}

/** The calls one call makes (`ctx.invoke`), audited with it: sealed when it commits, kept if it rolls back. */
export interface NestedCalls {
  sealables: SealableEvent[];
  records: InvocationRecord[];
}

export interface ConfirmationPrompt {
  tool: string;
  title: string;
  /** What will happen, in words, from the data the tool is about to change. */
  summary: string;
  message: string;
  parameters: unknown;
}

export type InvocationResult =
  | { ok: true; result: unknown; principal: Principal; durationMs: number }
  | { ok: false; error: ToolError; principal?: Principal; durationMs: number };

/** Stage: turns credentials into a principal, or throws UNAUTHENTICATED. */
export interface Authenticator {
  authenticate(bearer: string | undefined): Promise<Principal>;
}

/** Stage: decides whether a role may use a tool; throws FORBIDDEN otherwise. */
export interface Authorizer {
  authorize(principal: Principal, tool: AnyTool): void;
  /** The same for a permission the call's input asks for (`inputPermissions`: the status it sets). */
  authorizeInput(principal: Principal, tool: AnyTool, need: InputPermission): void;
}

/** Stage: per-user, per-tool-class limits; throws RATE_LIMITED. */
export interface RateLimiter {
  consume(principal: Principal, tool: AnyTool): Promise<void>;
}

/**
 * Stage: trims a result for the caller's role on the way out. `input` is the caller's own validated
 * input: a field that only echoes back what the caller just sent reveals nothing and stays visible.
 */
export type Redactor = (principal: Principal, tool: AnyTool, result: unknown, input?: unknown) => unknown;

export interface InvocationRecord {
  request: InvocationRequest;
  tool?: AnyTool;
  principal?: Principal;
  parameters?: unknown;
  /** Patients the call touched (reported by the handler through its context). */
  patientIds?: string[];
  outcome: 'success' | 'error' | 'denied';
  errorCode?: ErrorCode;
  durationMs: number;
}

/** Stage: durable record of every invocation; the response waits for it. */
export interface AuditSink {
  record(entry: InvocationRecord): Promise<void>;
  /**
   * Writes the event inside the current call transaction (it commits with the call's changes or not at
   * all); `seal()` after commit puts it on the audit chain.
   */
  intend?(entry: InvocationRecord): Promise<SealableEvent>;
  /** False while the store is failing: PHI tools then refuse to run rather than run unaudited. */
  isAvailable?(): boolean;
}

/** An audit event committed with a write's changes, waiting to be appended to the chain. */
export interface SealableEvent {
  seal(): Promise<void>;
}

/**
 * Stage: one transaction per write call (db/call-transaction.ts). Everything the handler writes, its
 * idempotency result and its audit intent commit together, so a crash leaves a write wholly there or
 * wholly absent.
 */
export interface CallTransactions {
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Whether the code calling this runs inside a call's transaction. */
  active(): boolean;
}

/** Stage: counters and timings; must never throw or block. */
export interface InvocationObserver {
  observe(entry: InvocationRecord): void;
}

export interface PipelineStages {
  authenticator: Authenticator;
  scope?: PatientScopeResolver;
  authorizer: Authorizer;
  rateLimiter?: RateLimiter;
  confirmations?: ConfirmationGate;
  idempotency?: IdempotencyStore;
  redactor?: Redactor;
  audit?: AuditSink;
  observers?: InvocationObserver[];
  /** Recognises backend failures thrown as plain errors (e.g. a lost database connection); else INTERNAL. */
  errorMapper?: (error: unknown) => ToolError | undefined;
  /** A time a person reads (e.g. a confirmation's expiry), in the practice zone with its offset. */
  formatTime?: (instant: Date) => Promise<string>;
  /** Whether a role may see a kind of sensitive data (the policy's redaction rules). */
  visibility?: (role: Principal['role'], kind: string) => boolean;
  transactions?: CallTransactions;
  /** Test mode only (UPC_TEST_FAULT): runs right after a write call's transaction commits. */
  afterCommit?: () => void;
}

const DENIED_CODES: ReadonlySet<ErrorCode> = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'OUT_OF_SCOPE',
  'RATE_LIMITED',
]);

const NEVER_ABORTED = new AbortController().signal;
const DEFAULT_SCOPE = new PatientScopeResolver();
const ignoreProgress = (): void => {};

/**
 * The one path every call takes, from every door (ARCHITECTURE §4). Each concern is a stage supplied by
 * its own module, so adding audit or rate limits changes the stages, not this function's callers.
 */
export class InvocationPipeline {
  constructor(
    private readonly registry: ToolRegistry,
    private readonly stages: PipelineStages,
    private readonly log: FastifyBaseLogger,
  ) {}

  async invoke(request: InvocationRequest): Promise<InvocationResult> {
    const started = performance.now();
    const touched = new Set<string>();
    let principal: Principal | undefined;
    let parameters: unknown;
    // Looked up first (without failing) so that even unauthenticated attempts are recorded against the tool.
    const registered: RegisteredTool | undefined = this.registry.get(request.tool);
    try {
      principal = await this.#authenticate(request.credentials);
      if (!registered) throw toolNotFound(request.tool);
      const tool = registered.tool;
      // Role before parameters: a caller without the permission learns nothing about the tool's inputs.
      this.stages.authorizer.authorize(principal, tool);
      parameters = validate(tool.input, request.parameters);
      for (const need of tool.inputPermissions?.(parameters) ?? [])
        this.stages.authorizer.authorizeInput(principal, tool, need);
      await this.stages.rateLimiter?.consume(principal, tool);
      if (tool.phi && this.stages.audit?.isAvailable?.() === false) throw auditUnavailable();
      const caller = principal;
      const calls: NestedCalls = { sealables: [], records: [] };
      const ctx = this.#context(request, principal, touched, calls);
      if (tool.confirmation) await this.#confirm(tool, ctx, parameters, request);
      const succeeded = (result: unknown): { shown: unknown; record: InvocationRecord } => {
        const shown = this.stages.redactor ? this.stages.redactor(caller, tool, result, parameters) : result;
        const record: InvocationRecord = {
          request,
          tool,
          principal,
          parameters,
          outcome: 'success',
          durationMs: performance.now() - started,
        };
        if (touched.size > 0) record.patientIds = [...touched];
        return { shown, record };
      };
      const transactions = this.stages.transactions;
      const intend = this.stages.audit?.intend?.bind(this.stages.audit);
      if (!tool.annotations.readOnlyHint && transactions && intend) {
        return await this.#runWrite(tool, ctx, parameters, request, calls, succeeded, transactions, intend);
      }
      const { shown, record } = succeeded(await this.#run(tool, ctx, parameters));
      const durationMs = record.durationMs;
      try {
        await this.#finish(record);
      } catch (auditError) {
        // Patient data is never handed out unaudited. But a write that happened is never reported as
        // failed (the caller would retry it): its result goes out, and the audit failure is an alert.
        const isWrite = !tool.annotations.readOnlyHint;
        if (tool.phi && !isWrite) {
          const error = isToolError(auditError) ? auditError : auditUnavailable();
          return { ok: false, error, principal, durationMs };
        }
        this.log.error(
          { request_id: request.requestId, tool: tool.name, err: (auditError as Error).message },
          'audit write failed after the call succeeded',
        );
      }
      return { ok: true, result: shown, principal, durationMs };
    } catch (thrown) {
      const error = this.#asToolError(thrown, request);
      const durationMs = performance.now() - started;
      const outcome = DENIED_CODES.has(error.code) ? 'denied' : 'error';
      const record: InvocationRecord = { request, outcome, errorCode: error.code, durationMs };
      if (registered) record.tool = registered.tool;
      if (principal) record.principal = principal;
      if (parameters !== undefined) record.parameters = parameters;
      const deniedPatient = error.code === 'OUT_OF_SCOPE' ? error.details?.patient_id : undefined;
      if (typeof deniedPatient === 'string') touched.add(deniedPatient);
      if (touched.size > 0) record.patientIds = [...touched];
      try {
        await this.#finish(record);
      } catch {
        return { ok: false, error: auditUnavailable(), durationMs };
      }
      return principal ? { ok: false, error, principal, durationMs } : { ok: false, error, durationMs };
    }
  }

  /**
   * A write call in one transaction: the handler's changes, its idempotency result and its audit intent
   * commit together. The intent is then sealed onto the audit chain before the answer goes out (after a
   * crash in between, at the next start or by another replica). A call made by a call joins the outer
   * transaction and is sealed with it.
   */
  async #runWrite(
    tool: AnyTool,
    ctx: CallContext & { idempotencyKey?: string },
    parameters: unknown,
    request: InvocationRequest,
    calls: NestedCalls,
    succeeded: (result: unknown) => { shown: unknown; record: InvocationRecord },
    transactions: CallTransactions,
    intend: (entry: InvocationRecord) => Promise<SealableEvent>,
  ): Promise<InvocationResult> {
    let done: { shown: unknown; record: InvocationRecord; sealable: SealableEvent };
    try {
      done = await transactions.run(async () => {
        const { shown, record } = succeeded(await this.#run(tool, ctx, parameters));
        return { shown, record, sealable: await intend(record) };
      });
    } catch (error) {
      // Rolled back: the calls this call made happened all the same (reads of patient data above all).
      await this.#recordAfterRollback(calls);
      throw error;
    }
    for (const observer of this.stages.observers ?? []) observer.observe(done.record);
    const sealables = [done.sealable, ...calls.sealables];
    const outer = request.calledBy;
    if (outer && transactions.active()) {
      outer.sealables.push(...sealables);
      outer.records.push(done.record, ...calls.records);
    } else {
      this.stages.afterCommit?.();
      await this.#seal(sealables, request);
    }
    return { ok: true, result: done.shown, principal: ctx.principal, durationMs: done.record.durationMs };
  }

  /** Appends committed intents to the chain; if that fails now, the orphan sweep does it later. */
  async #seal(sealables: readonly SealableEvent[], request: InvocationRequest): Promise<void> {
    const results = await Promise.allSettled(sealables.map((s) => s.seal()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed)
      this.log.error(
        { request_id: request.requestId, tool: request.tool, err: (failed.reason as Error).message },
        'audit chain append failed after commit; the committed intent will be sealed by the next sweep',
      );
  }

  async #recordAfterRollback(calls: NestedCalls): Promise<void> {
    for (const record of calls.records) {
      await this.stages.audit
        ?.record(record)
        .catch((error: Error) =>
          this.log.error(
            { request_id: record.request.requestId, tool: record.request.tool, err: error.message },
            'audit write failed for a call made by a call that was rolled back',
          ),
        );
    }
  }

  async #authenticate(credentials: Credentials): Promise<Principal> {
    if ('principal' in credentials) return credentials.principal;
    return this.stages.authenticator.authenticate(credentials.bearer);
  }

  /**
   * Confirmation: first the tool checks the action can happen and says what it will do (an impossible
   * action fails here, before anyone is asked); then a token is redeemed, the person is asked directly, or
   * CONFIRMATION_REQUIRED hands back a token with the sentence to show and how to confirm at this door.
   */
  async #confirm(
    tool: AnyTool,
    ctx: CallContext,
    parameters: unknown,
    request: InvocationRequest,
  ): Promise<void> {
    const gate = this.stages.confirmations;
    if (!gate) return;
    const summary = tool.describeAction ? await tool.describeAction(parameters, ctx) : `${tool.title}.`;
    if (request.confirmationToken) {
      await gate.redeem(ctx.principal, tool.name, parameters, request.confirmationToken);
      return;
    }
    const message = `Please confirm: ${summary}`;
    if (request.confirm) {
      const prompt = { tool: tool.name, title: tool.title, summary, message, parameters };
      if (!(await request.confirm(prompt)))
        throw new ToolError('CONFIRMATION_REQUIRED', `Not confirmed, so nothing was done: ${summary}`, {
          declined: true,
        });
      return;
    }
    const { token, expiresAt } = gate.issue(ctx.principal, tool.name, parameters);
    const how = request.confirmHow ?? DEFAULT_CONFIRM_HOW;
    throw new ToolError('CONFIRMATION_REQUIRED', `${message} Ask the person; if they agree, ${how}`, {
      summary,
      confirmation_token: token,
      expires_at: this.stages.formatTime ? await this.stages.formatTime(expiresAt) : expiresAt.toISOString(),
      how_to_confirm: how,
      tool: tool.name,
      parameters,
    });
  }

  /** Runs the handler (once per idempotency key) and checks its result against the output schema. */
  async #run(
    tool: AnyTool,
    ctx: CallContext & { idempotencyKey?: string },
    parameters: unknown,
  ): Promise<unknown> {
    const key = tool.annotations.readOnlyHint ? undefined : ctx.idempotencyKey;
    const store = this.stages.idempotency;
    if (!key || !store) return this.#checkOutput(tool, await tool.handler(parameters, ctx), ctx.requestId);
    const claim = await store.claim(ctx.principal, tool.name, key, parameters);
    if (claim.kind === 'replay') return claim.result;
    try {
      const result = this.#checkOutput(tool, await tool.handler(parameters, ctx), ctx.requestId);
      await store.complete(ctx.principal, tool.name, key, result);
      return result;
    } catch (error) {
      await store.release(ctx.principal, tool.name, key).catch(() => {});
      throw error;
    }
  }

  #context(
    request: InvocationRequest,
    principal: Principal,
    touched: Set<string>,
    calls: NestedCalls,
  ): CallContext & { idempotencyKey?: string } {
    const log = this.log;
    const scopeResolver = this.stages.scope ?? DEFAULT_SCOPE;
    let childLog: FastifyBaseLogger | undefined;
    let scope: Promise<PatientScope> | undefined;
    let nested = 0;
    const ctx: CallContext & { idempotencyKey?: string } = {
      requestId: request.requestId,
      principal,
      door: request.door,
      get log() {
        childLog ??= log.child({ request_id: request.requestId, tool: request.tool });
        return childLog;
      },
      signal: request.signal ?? NEVER_ABORTED,
      reportProgress: request.onProgress ?? ignoreProgress,
      patientScope: () => {
        scope ??= scopeResolver.resolve(principal);
        return scope;
      },
      touchPatients: (...patientIds: string[]) => {
        for (const id of patientIds) touched.add(id);
      },
      mayView: (kind: string) => this.stages.visibility?.(principal.role, kind) ?? true,
      invoke: async (tool, parameters) => {
        // Nested calls get request ids under the parent's (`<id>.1`, `<id>.2`), so the audit log links them.
        const caller: Caller = {
          credentials: { principal },
          nextRequestId: () => `${request.requestId}.${++nested}`,
          client: request.client,
          ip: request.ip,
        };
        const outcome = await this.invoke({
          ...requestFor(caller, request.door, tool, parameters, { signal: ctx.signal }),
          calledBy: calls,
        });
        if (!outcome.ok) throw outcome.error;
        return outcome.result;
      },
    };
    if (request.idempotencyKey) ctx.idempotencyKey = request.idempotencyKey;
    return ctx;
  }

  #checkOutput(tool: AnyTool, raw: unknown, requestId: string): unknown {
    const parsed = tool.output.safeParse(raw);
    if (parsed.success) return parsed.data;
    // A handler that breaks its own contract is our bug, not the caller's: log it and answer INTERNAL.
    this.log.error(
      { request_id: requestId, tool: tool.name, issues: parsed.error.issues.slice(0, 5) },
      'tool output failed validation',
    );
    throw new ToolError('INTERNAL', 'The tool produced an invalid result. The problem has been logged.');
  }

  async #finish(record: InvocationRecord): Promise<void> {
    for (const observer of this.stages.observers ?? []) observer.observe(record);
    const audit = this.stages.audit;
    if (!audit) return;
    const outer = record.request.calledBy;
    if (outer && audit.intend && this.stages.transactions?.active()) {
      // Inside the calling call's transaction: its event commits (and is sealed) with that call.
      outer.sealables.push(await audit.intend(record));
      outer.records.push(record);
      return;
    }
    await audit.record(record);
  }

  #asToolError(thrown: unknown, request: InvocationRequest): ToolError {
    if (isToolError(thrown)) return thrown;
    if (request.signal?.aborted)
      return new ToolError('CONFLICT', 'The call was cancelled before it finished.');
    const mapped = this.stages.errorMapper?.(thrown);
    if (mapped) return mapped;
    this.log.error(
      { request_id: request.requestId, tool: request.tool, err: thrown },
      'tool failed unexpectedly',
    );
    return new ToolError(
      'INTERNAL',
      'An unexpected error occurred. The problem has been logged with the request id.',
    );
  }
}

function auditUnavailable(): ToolError {
  return new ToolError(
    'UPSTREAM_UNAVAILABLE',
    'The audit log is unavailable, so patient data cannot be accessed right now. Try again shortly.',
  );
}

/** Validates parameters, naming each bad field so a person or model can correct the call. */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  options: { textCheckedLater?: string } = {},
): z.output<S> {
  // NUL and lone surrogates first: refused by name, whatever the schema says about the field. A door
  // leaves its `parameters` to the pipeline, which checks them (and audits the call under the tool).
  const checked =
    options.textCheckedLater && value && typeof value === 'object' && !Array.isArray(value)
      ? { ...(value as Record<string, unknown>), [options.textCheckedLater]: undefined }
      : value;
  const hostile = hostileText(checked);
  if (hostile.length > 0) throw invalidParameters(hostile.map((f) => ({ ...f, code: 'invalid_text' })));
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  throw invalidParameters(
    parsed.error.issues.map((issue) => ({
      field: issue.path.length > 0 ? issue.path.join('.') : '(parameters)',
      message: isMissing(issue, value) ? 'is required' : readable(issue),
      code: issue.code,
    })),
  );
}

/** A required field that was not given at all (zod says "expected string, received undefined"). */
function isMissing(issue: z.core.$ZodIssue, value: unknown): boolean {
  if (issue.code !== 'invalid_type' || issue.path.length === 0) return false;
  let at: unknown = value;
  for (const key of issue.path) {
    if (at === null || typeof at !== 'object') return false;
    at = (at as Record<PropertyKey, unknown>)[key as PropertyKey];
  }
  return at === undefined;
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
};

/** zod's default wording, made into a phrase that follows the field name; a schema's own message stays. */
function readable(issue: z.core.$ZodIssue): string {
  const isDefault = /^(Invalid|Too (small|big)|Unrecognized)/.test(issue.message);
  if (!isDefault) return issue.message;
  switch (issue.code) {
    case 'unrecognized_keys':
      return `${issue.keys.map((key) => `"${key}"`).join(', ')} ${issue.keys.length === 1 ? 'is' : 'are'} not a known parameter; check the spelling against the tool's input schema`;
    case 'invalid_type':
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const [least, most] = issue.inclusive === false ? ['more than', 'less than'] : ['at least', 'at most'];
      const limit = `${issue.code === 'too_small' ? least : most} ${String(bound)}`;
      if (issue.origin === 'string') return `must be ${limit} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must hold ${limit} items`;
      return `must be ${limit}`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return `must be ${issue.format === 'regex' ? 'in the documented format' : `a valid ${issue.format}`}`;
    default:
      return issue.message.replace(/^Invalid input: /, 'is not valid: ');
  }
}

function toolNotFound(name: string): ToolError {
  return new ToolError(
    'TOOL_NOT_FOUND',
    `No tool named "${name}". List the available tools with GET /mcp/v1/tools.`,
    { tool: name },
  );
}

const DEFAULT_CONFIRM_HOW = 'call again with the same parameters and the confirmation_token.';
