import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { ROLES, type Role } from '../core/context.js';
import { hashPassword } from './passwords.js';
import { insertUser, type SecurityTables } from './users.store.js';

export interface DemoCredential {
  username: string;
  role: Role;
  password: string;
}

/**
 * One demo user per role (`demo.admin`, `demo.radiologist`, ...) with fresh random passwords, written to
 * DATA_DIR/demo-credentials.json (mode 600). Never called in production; existing users are left alone.
 */
export async function seedDemoUsers(
  db: Kysely<SecurityTables>,
  dataDir: string,
  usernames: Partial<Record<Role, string>> = {},
): Promise<DemoCredential[]> {
  // Hash in parallel: argon2 runs on the libuv thread pool and is deliberately slow (~0.5 s each).
  const attempts = await Promise.all(
    ROLES.map(async (role) => {
      const username = usernames[role] ?? `demo.${role.replaceAll('_', '-')}`;
      const password = randomBytes(12).toString('base64url');
      const inserted = await insertUser(db, {
        username,
        role,
        passwordHash: await hashPassword(password),
        displayName: `Demo ${role.replaceAll('_', ' ')}`,
      });
      return inserted ? { username, role, password } : undefined;
    }),
  );
  const created = attempts.filter((c): c is DemoCredential => c !== undefined);
  if (created.length > 0) {
    mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, 'demo-credentials.json');
    writeFileSync(file, `${JSON.stringify(created, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return created;
}
