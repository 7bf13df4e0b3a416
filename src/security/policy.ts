import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { type Principal, ROLES, type Role } from '../core/context.js';
import { ToolError } from '../core/errors.js';
import type { Authorizer } from '../core/pipeline.js';
import type { AnyTool } from '../core/tool.js';

const PERMISSION = /^(\*|[a-z_]+:(\*|[a-z_]+))$/;

const policyFileSchema = z.object({
  roles: z.record(
    z.enum(ROLES),
    z.array(z.string().regex(PERMISSION, 'must be module:action, module:* or *')),
  ),
});

export const DEFAULT_POLICY_FILE = fileURLToPath(
  new URL('../../policy/default-policy.json', import.meta.url),
);

/** Role → granted permissions. A role missing from the file is granted nothing (deny by default). */
export class Policy implements Authorizer {
  readonly #grants: ReadonlyMap<Role, readonly string[]>;

  constructor(grants: Partial<Record<Role, string[]>>) {
    this.#grants = new Map(Object.entries(grants) as [Role, string[]][]);
  }

  static fromFile(file: string = DEFAULT_POLICY_FILE): Policy {
    const parsed = policyFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new Error(`Policy file ${file} is invalid: ${problems}`);
    }
    return new Policy(parsed.data.roles);
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
}
