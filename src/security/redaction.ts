import type { Principal, Role } from '../core/context.js';
import type { Redactor } from '../core/pipeline.js';
import type { FieldRedactions } from '../core/redaction-kinds.js';
import type { AnyTool } from '../core/tool.js';
import { FIELD_REDACTIONS } from './field-redactions.js';
import type { Policy } from './policy.js';

export const WITHHELD = '[withheld: not available to your role]';

/** Keeps the last four characters so staff can still tell records apart: `*********1234`. */
export function maskIdentifier(value: string): string {
  if (value.length <= 4) return '*'.repeat(value.length);
  return `${'*'.repeat(value.length - 4)}${value.slice(-4)}`;
}

/**
 * An SA ID number is masked whole: its first digits are the birth date and its next the sex, which other
 * fields show, and the last is a check digit, so a partly masked number could be worked out in a few guesses.
 */
export function maskWhole(value: string): string {
  return '*'.repeat(value.length);
}

type FieldAction = 'hide' | 'mask' | 'mask-whole';

const ACTION_FOR_KIND: Readonly<Record<string, FieldAction>> = {
  clinical_text: 'hide',
  contact_details: 'hide',
  national_id: 'mask-whole',
  member_number: 'mask',
};

/**
 * Trims results on the way out according to the caller's role: clinical text withheld, identifiers
 * masked. Which fields are sensitive is one map for every module (field-redactions.ts), plus what a
 * module adds for its own tools; who may see each kind is in the policy file. Only string fields are
 * touched, so results still match their published schemas.
 */
export class RoleRedactor {
  readonly #fieldsByModule = new Map<string, FieldRedactions>();
  readonly #plans = new Map<string, Map<string, FieldAction> | null>();

  constructor(
    private readonly policy: Policy,
    private readonly common: FieldRedactions = FIELD_REDACTIONS,
  ) {}

  readonly #exemptByModule = new Map<string, ReadonlySet<string>>();

  /** The fields a module's tools are redacted by: the common map and the module's own additions. */
  fieldsOf(module: string): FieldRedactions {
    const fields: Record<string, FieldRedactions[string]> = {
      ...this.common,
      ...this.#fieldsByModule.get(module),
    };
    for (const field of this.#exemptByModule.get(module) ?? []) delete fields[field];
    return fields;
  }

  declare(module: string, fields: FieldRedactions, exempt: readonly string[] = []): void {
    this.#fieldsByModule.set(module, { ...this.#fieldsByModule.get(module), ...fields });
    if (exempt.length > 0) this.#exemptByModule.set(module, new Set(exempt));
    this.#plans.clear();
  }

  readonly redact: Redactor = (principal: Principal, tool: AnyTool, result: unknown, input?: unknown) => {
    const plan = this.#plan(principal.role, tool.module ?? '');
    if (!plan) return result;
    // Only writes echo: a read tool's filters must not turn redaction into a guess-checking oracle.
    return apply(result, plan, tool.annotations.readOnlyHint ? NO_ECHOES : echoedValues(input));
  };

  /** What to do with each sensitive field of a module for a role; null when nothing applies (fast path). */
  #plan(role: Role, module: string): Map<string, FieldAction> | null {
    const key = `${role}|${module}`;
    let plan = this.#plans.get(key);
    if (plan !== undefined) return plan;
    const actions = new Map<string, FieldAction>();
    for (const [field, kind] of Object.entries(this.fieldsOf(module))) {
      if (!this.policy.mayView(role, kind)) actions.set(field, ACTION_FOR_KIND[kind] ?? 'hide');
    }
    plan = actions.size > 0 ? actions : null;
    this.#plans.set(key, plan);
    return plan;
  }
}

const NO_ECHOES: ReadonlyMap<string, string> = new Map();

/** The caller's own top-level string inputs, field → value: echoing these back reveals nothing new. */
function echoedValues(input: unknown): ReadonlyMap<string, string> {
  const echoes = new Map<string, string>();
  if (input && typeof input === 'object' && !Array.isArray(input)) {
    for (const [key, value] of Object.entries(input)) if (typeof value === 'string') echoes.set(key, value);
  }
  return echoes;
}

function apply(value: unknown, plan: Map<string, FieldAction>, echoes: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => apply(item, plan, echoes));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const action = plan.get(key);
    if (!action || item === null || item === undefined || item === '' || echoes.get(key) === item) {
      out[key] = apply(item, plan, echoes);
    } else {
      out[key] = redactValue(item, action);
    }
  }
  return out;
}

/** One sensitive value (a string, or a DICOM sequence / list holding strings) for a role that may not see it. */
function redactValue(item: unknown, action: FieldAction): unknown {
  if (typeof item === 'string') {
    if (action === 'hide') return WITHHELD;
    return action === 'mask-whole' ? maskWhole(item) : maskIdentifier(item);
  }
  if (typeof item !== 'object' || item === null) return item; // numbers and flags carry no identifier text
  if (action === 'hide') return WITHHELD;
  if (Array.isArray(item)) return item.map((value) => redactValue(value, action));
  return Object.fromEntries(Object.entries(item).map(([key, value]) => [key, redactValue(value, action)]));
}
