import type { Kysely } from 'kysely';
import type { ChatMessage } from './provider.js';

/** An action the model asked for that needs the person's confirmation; nothing was done yet. */
export interface PendingConfirmation {
  confirmation_token: string;
  tool: string;
  parameters: unknown;
  /** What will happen, in words a person reads (from the tool's describeAction). */
  summary: string;
  expires_at?: string | undefined;
}

export interface ChatSession {
  sessionId: string;
  ownerSubject: string;
  messages: ChatMessage[];
  pending: PendingConfirmation[];
}

type ChatTables = {
  'core.chat_sessions': {
    session_id: string;
    owner_subject: string;
    created_at: Date;
    updated_at: Date;
    expires_at: Date;
    messages: string;
    pending: string;
  };
};

// biome-ignore lint/suspicious/noExplicitAny: the shared handle is narrowed to this door's one table
function chatDb(db: Kysely<any>): Kysely<ChatTables> {
  return db.withTables<ChatTables>();
}

/**
 * A session of its owner that has not expired (product clock), or undefined: another user's session and an
 * expired one look the same to the caller (NOT_FOUND).
 */
export async function loadSession(
  // biome-ignore lint/suspicious/noExplicitAny: see chatDb
  db: Kysely<any>,
  sessionId: string,
  ownerSubject: string,
  now: Date,
): Promise<ChatSession | undefined> {
  const row = await chatDb(db)
    .selectFrom('core.chat_sessions')
    .select(['session_id', 'owner_subject', 'messages', 'pending'])
    .where('session_id', '=', sessionId)
    .where('owner_subject', '=', ownerSubject)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    sessionId: row.session_id,
    ownerSubject: row.owner_subject,
    messages: parseJson<ChatMessage[]>(row.messages),
    pending: parseJson<PendingConfirmation[]>(row.pending),
  };
}

/** Inserts or updates a session, its history bounded and its expiry moved on. */
export async function saveSession(
  // biome-ignore lint/suspicious/noExplicitAny: see chatDb
  db: Kysely<any>,
  session: ChatSession,
  now: Date,
  expiresAt: Date,
): Promise<void> {
  const values = {
    session_id: session.sessionId,
    owner_subject: session.ownerSubject,
    created_at: now,
    updated_at: now,
    expires_at: expiresAt,
    messages: JSON.stringify(session.messages),
    pending: JSON.stringify(session.pending),
  };
  await chatDb(db)
    .insertInto('core.chat_sessions')
    .values(values)
    .onConflict((oc) =>
      oc
        .column('session_id')
        .doUpdateSet({
          updated_at: now,
          expires_at: expiresAt,
          messages: values.messages,
          pending: values.pending,
        })
        .where('core.chat_sessions.owner_subject', '=', session.ownerSubject),
    )
    .execute();
}

/** Deletes an owner's session; false when there is none (or it is someone else's). */
export async function deleteSession(
  // biome-ignore lint/suspicious/noExplicitAny: see chatDb
  db: Kysely<any>,
  sessionId: string,
  ownerSubject: string,
): Promise<boolean> {
  const result = await chatDb(db)
    .deleteFrom('core.chat_sessions')
    .where('session_id', '=', sessionId)
    .where('owner_subject', '=', ownerSubject)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Removes sessions expired before `now` (product clock); returns how many. */
export async function deleteExpiredSessions(
  // biome-ignore lint/suspicious/noExplicitAny: see chatDb
  db: Kysely<any>,
  now: Date,
): Promise<number> {
  const result = await chatDb(db)
    .deleteFrom('core.chat_sessions')
    .where('expires_at', '<=', now)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Keeps the newest messages, at most `max`, cutting only before a user message so that no tool result is
 * kept without the assistant turn that asked for it (providers refuse such a history).
 */
export function boundHistory(messages: ChatMessage[], max: number): ChatMessage[] {
  if (messages.length <= max) return messages;
  for (let start = messages.length - max; start < messages.length; start++) {
    if (messages[start]!.role === 'user') return messages.slice(start);
  }
  // One turn longer than the limit: keep its last user message onward, or nothing older than it.
  const lastUser = messages.findLastIndex((m) => m.role === 'user');
  return lastUser >= 0 ? messages.slice(lastUser) : [];
}

function parseJson<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}
