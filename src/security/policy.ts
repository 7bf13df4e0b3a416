import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { type Principal, ROLES, type Role } from '../core/context.js';
import { ToolError } from '../core/errors.js';
import type { Authorizer } from '../core/pipeline.js';
import { REDACTION_KINDS, type RedactionKind } from '../core/redaction-kinds.js';
import type { AnyTool, InputPermission } from '../core/tool.js';

const PERMISSION = /^(\*|[a-z_]+:(\*|[a-z_]+))$/;
const permission = z.string().regex(PERMISSION, 'must be module:action, module:* or *');

const windowSchema = z.object({
  limit: z.number().int().min(1),
  window_seconds: z.number().int().min(1).max(86_400),
});

export { REDACTION_KINDS, type RedactionKind };

const redactionRule = z.union([
  z.object({ hidden_from: z.array(z.enum(ROLES)) }),
  z.object({ visible_to: z.array(z.enum(ROLES)) }),
]);

const policyFileSchema = z.object({
  roles: z.partialRecord(z.enum(ROLES), z.array(permission)),
  rate_limits: z
    .object({
      default: windowSchema,
      classes: z
        .record(z.string(), windowSchema.extend({ permissions: z.array(permission).min(1) }))
        .default({}),
      login: windowSchema.extend({
        lock_after_failures: z.number().int().min(1).default(5),
        lock_minutes: z.number().int().min(1).default(15),
        /** Failed sign-ins from one address per window before that address is slowed (password spraying). */
        address_limit: z.number().int().min(1).default(50),
      }),
    })
    .default({
      default: { limit: 1000, window_seconds: 900 },
      classes: {},
      login: { limit: 10, window_seconds: 900, lock_after_failures: 5, lock_minutes: 15, address_limit: 50 },
    }),
  redaction: z.partialRecord(z.enum(REDACTION_KINDS), redactionRule).default({}),
});

export type PolicyDocument = z.output<typeof policyFileSchema>;
export type RateWindow = z.output<typeof windowSchema>;

export const DEFAULT_POLICY_FILE = fileURLToPath(
  new URL('../../policy/default-policy.json', import.meta.url),
);

/**
 * The practice's access policy, from one file: role → permissions (deny by default: a role missing from
 * the file, or a permission no grant matches, is refused), rate limits per tool class, and which roles
 * see which sensitive fields.
 */
export class Policy implements Authorizer {
  readonly #grants: ReadonlyMap<Role, readonly string[]>;

  constructor(readonly document: PolicyDocument) {
    this.#grants = new Map(Object.entries(document.roles) as [Role, string[]][]);
  }

  static fromFile(file: string = DEFAULT_POLICY_FILE): Policy {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`Policy file ${file} cannot be read: ${(error as Error).message}`);
    }
    const parsed = policyFileSchema.safeParse(raw);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new Error(`Policy file ${file} is invalid: ${problems}`);
    }
    return new Policy(parsed.data);
  }

  allows(role: Role, permission: string): boolean {
    const [module] = permission.split(':');
    for (const grant of this.#grants.get(role) ?? []) {
      if (grant === '*' || grant === permission || grant === `${module}:*`) return true;
    }
    return false;
  }

  authorize(principal: Principal, tool: AnyTool): void {
    if (!this.allows(principal.role, tool.permission)) {
      throw new ToolError(
        'FORBIDDEN',
        `The ${principal.role} role may not use ${tool.name} (needs ${tool.permission}). Ask an administrator if you need it.`,
        { tool: tool.name, permission: tool.permission, role: principal.role },
      );
    }
  }

  /**
   * A permission the call's input asks for (a status step): FORBIDDEN naming the roles that hold it, so
   * the caller knows whom to ask.
   */
  authorizeInput(principal: Principal, tool: AnyTool, need: InputPermission): void {
    if (this.allows(principal.role, need.permission)) return;
    const holders = this.rolesAllowed(need.permission);
    const who =
      holders.length > 0
        ? `only the ${holders.join(holders.length > 2 ? ', ' : ' or ').replace(/, (?=[^,]*$)/, ' or ')} role${holders.length > 1 ? 's' : ''} may`
        : 'no role may';
    throw new ToolError(
      'FORBIDDEN',
      `The ${principal.role} role may not ${need.action} (needs ${need.permission}): ${who}. Ask ${holders.length > 0 ? 'one of them' : 'an administrator'} to do it.`,
      { tool: tool.name, permission: need.permission, role: principal.role, allowed_roles: holders },
    );
  }

  /** The roles a permission is granted to, the administrator last. */
  rolesAllowed(permission: string): Role[] {
    const holders = ROLES.filter((role) => this.allows(role, permission));
    return [...holders.filter((r) => r !== 'admin'), ...holders.filter((r) => r === 'admin')];
  }

  /** Whether a role may see a kind of sensitive field. */
  /** `mayView` for a kind named at run time; an unknown kind is visible (nothing declares it sensitive). */
  mayViewKind(role: Role, kind: string): boolean {
    return (REDACTION_KINDS as readonly string[]).includes(kind)
      ? this.mayView(role, kind as RedactionKind)
      : true;
  }

  mayView(role: Role, kind: RedactionKind): boolean {
    const rule = this.document.redaction[kind];
    if (!rule) return true;
    return 'hidden_from' in rule ? !rule.hidden_from.includes(role) : rule.visible_to.includes(role);
  }
}
