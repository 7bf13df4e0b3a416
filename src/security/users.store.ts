import type { ColumnType, Generated, Kysely, Selectable } from 'kysely';
import type { Role } from '../core/context.js';

export type SecurityTables = {
  'security.users': {
    username: string;
    display_name: Generated<string>;
    role: string;
    password_hash: string;
    patients: Generated<string[]>;
    disabled: Generated<boolean>;
    failed_attempts: Generated<number>;
    locked_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
    last_login_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
  };
  'security.patient_assignments': {
    subject: string;
    patient_id: string;
    expires_at: Date;
    assigned_by: string;
    reason: Generated<string>;
    created_at: Generated<Date>;
  };
};

export interface UserRecord {
  username: string;
  displayName: string;
  role: Role;
  passwordHash: string;
  patients: string[];
  disabled: boolean;
  failedAttempts: number;
  lockedUntil: Date | null;
  lastLoginAt: Date | null;
}

export function securityDb(
  // biome-ignore lint/suspicious/noExplicitAny: narrowed to the security tables here
  db: Kysely<any>,
): Kysely<SecurityTables> {
  return db.withTables<SecurityTables>();
}

type UserRow = Selectable<SecurityTables['security.users']>;

function toUser(row: UserRow): UserRecord {
  return {
    username: row.username,
    displayName: row.display_name,
    role: row.role as Role,
    passwordHash: row.password_hash,
    patients: row.patients,
    disabled: row.disabled,
    failedAttempts: row.failed_attempts,
    lockedUntil: row.locked_until,
    lastLoginAt: row.last_login_at,
  };
}

export async function findUser(
  db: Kysely<SecurityTables>,
  username: string,
): Promise<UserRecord | undefined> {
  const row = await db
    .selectFrom('security.users')
    .selectAll()
    .where('username', '=', username)
    .executeTakeFirst();
  return row ? toUser(row) : undefined;
}

export async function listUsers(db: Kysely<SecurityTables>): Promise<UserRecord[]> {
  const rows = await db.selectFrom('security.users').selectAll().orderBy('username').execute();
  return rows.map(toUser);
}

export async function insertUser(
  db: Kysely<SecurityTables>,
  user: { username: string; role: Role; passwordHash: string; displayName?: string; patients?: string[] },
): Promise<boolean> {
  const inserted = await db
    .insertInto('security.users')
    .values({
      username: user.username,
      role: user.role,
      password_hash: user.passwordHash,
      display_name: user.displayName ?? '',
      patients: user.patients ?? [],
    })
    .onConflict((oc) => oc.doNothing())
    .returning('username')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function updateUser(
  db: Kysely<SecurityTables>,
  username: string,
  changes: { passwordHash?: string; disabled?: boolean; unlock?: boolean },
): Promise<boolean> {
  const result = await db
    .updateTable('security.users')
    .set({
      ...(changes.passwordHash ? { password_hash: changes.passwordHash } : {}),
      ...(changes.disabled !== undefined ? { disabled: changes.disabled } : {}),
      ...(changes.unlock || changes.passwordHash ? { failed_attempts: 0, locked_until: null } : {}),
      updated_at: new Date(),
    })
    .where('username', '=', username)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Counts a failed sign-in atomically; locks the account when the count reaches `lockAfter`. */
/** Counts a failed sign-in; `waitMs` (from the delay curve) is how long the name is now held off. */
export async function recordFailedLogin(
  db: Kysely<SecurityTables>,
  username: string,
  waitMs: number,
): Promise<void> {
  await db
    .updateTable('security.users')
    .set((eb) => ({
      failed_attempts: eb('failed_attempts', '+', 1),
      ...(waitMs > 0 ? { locked_until: new Date(Date.now() + waitMs) } : {}),
    }))
    .where('username', '=', username)
    .execute();
}

export async function recordSuccessfulLogin(db: Kysely<SecurityTables>, username: string): Promise<void> {
  await db
    .updateTable('security.users')
    .set({ failed_attempts: 0, locked_until: null, last_login_at: new Date() })
    .where('username', '=', username)
    .execute();
}

export async function assignPatient(
  db: Kysely<SecurityTables>,
  row: { subject: string; patientId: string; expiresAt: Date; assignedBy: string; reason: string },
): Promise<void> {
  await db
    .insertInto('security.patient_assignments')
    .values({
      subject: row.subject,
      patient_id: row.patientId,
      expires_at: row.expiresAt,
      assigned_by: row.assignedBy,
      reason: row.reason,
    })
    .onConflict((oc) =>
      oc.columns(['subject', 'patient_id']).doUpdateSet({
        expires_at: row.expiresAt,
        assigned_by: row.assignedBy,
        reason: row.reason,
        created_at: new Date(),
      }),
    )
    .execute();
}

export async function activeAssignments(
  db: Kysely<SecurityTables>,
  subject: string,
  now: Date,
): Promise<string[]> {
  const rows = await db
    .selectFrom('security.patient_assignments')
    .select('patient_id')
    .where('subject', '=', subject)
    .where('expires_at', '>', now)
    .execute();
  return rows.map((r) => r.patient_id);
}
