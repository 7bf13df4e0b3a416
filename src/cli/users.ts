import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { ROLES, type Role } from '../core/context.js';
import { PracticeZone } from '../core/practice-time.js';
import { openDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { hashPassword, passwordProblem } from '../security/passwords.js';
import { findUser, insertUser, listUsers, securityDb, updateUser } from '../security/users.store.js';
import { fail, ok } from './output.js';

export const USERS_HELP = `Usage: upc-mcp users <add|list|disable|enable|passwd|unlock> [options]

  add --username NAME --role ROLE [--name "Display Name"] [--patients P1,P2] [--password-stdin]
      creates a built-in user; without --password-stdin a strong password is generated and printed once
  list                      users with role, state and last sign-in
  disable --username NAME   refuses further sign-ins (existing tokens expire on their own)
  enable --username NAME
  passwd --username NAME [--password-stdin]   sets a new password (generated unless given) and unlocks
  unlock --username NAME    clears a lock-out after failed sign-ins
Roles: ${ROLES.join(', ')}.`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function choosePassword(
  fromStdin: boolean | undefined,
): Promise<{ password: string; generated: boolean }> {
  if (!fromStdin) return { password: randomBytes(18).toString('base64url'), generated: true };
  const password = await readStdin();
  const problem = passwordProblem(password);
  if (problem) throw new Error(`password ${problem}`);
  return { password, generated: false };
}

export async function usersCommand(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      username: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      patients: { type: 'string' },
      'password-stdin': { type: 'boolean' },
    },
    strict: true,
  });
  const database = await openDatabase(config);
  try {
    await migrate(database);
    const db = securityDb(database.db);
    const username = values.username?.trim().toLowerCase();
    if (sub === 'list') {
      const users = await listUsers(db);
      const zone = new PracticeZone(database.db);
      if (users.length === 0)
        console.log('no built-in users yet; add one with: upc-mcp users add --username NAME --role ROLE');
      for (const u of users) {
        // Lock-outs run on the machine's clock, like sign-in itself.
        const locked = u.lockedUntil !== null && u.lockedUntil > new Date();
        const state = u.disabled ? 'disabled' : locked ? 'locked' : 'active';
        const lastSignIn = u.lastLoginAt ? await zone.format(u.lastLoginAt) : 'never';
        console.log(
          `${u.username.padEnd(24)} ${u.role.padEnd(17)} ${state.padEnd(9)} last sign-in ${lastSignIn}`,
        );
      }
      return 0;
    }
    if (!username) throw new Error('--username is required');
    switch (sub) {
      case 'add': {
        const role = values.role as Role | undefined;
        if (!role || !ROLES.includes(role)) throw new Error(`--role is one of ${ROLES.join(', ')}`);
        const { password, generated } = await choosePassword(values['password-stdin']);
        const created = await insertUser(db, {
          username,
          role,
          passwordHash: await hashPassword(password),
          ...(values.name ? { displayName: values.name } : {}),
          ...(values.patients
            ? {
                patients: values.patients
                  .split(',')
                  .map((p) => p.trim())
                  .filter(Boolean),
              }
            : {}),
        });
        if (!created) throw new Error(`user "${username}" already exists`);
        console.log(ok(`created ${username} (${role})`));
        if (generated) console.log(`password (shown once): ${password}`);
        return 0;
      }
      case 'disable':
      case 'enable': {
        if (!(await updateUser(db, username, { disabled: sub === 'disable' })))
          throw new Error(`no user "${username}"`);
        console.log(ok(`${username} ${sub}d`));
        return 0;
      }
      case 'unlock': {
        if (!(await updateUser(db, username, { unlock: true }))) throw new Error(`no user "${username}"`);
        console.log(ok(`${username} unlocked`));
        return 0;
      }
      case 'passwd': {
        if (!(await findUser(db, username))) throw new Error(`no user "${username}"`);
        const { password, generated } = await choosePassword(values['password-stdin']);
        await updateUser(db, username, { passwordHash: await hashPassword(password) });
        console.log(ok(`password changed for ${username}`));
        if (generated) console.log(`password (shown once): ${password}`);
        return 0;
      }
      default:
        console.error(fail(`unknown users command "${sub ?? ''}"`));
        console.error(USERS_HELP);
        return 2;
    }
  } finally {
    await database.close();
  }
}
