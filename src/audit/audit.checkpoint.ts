/**
 * The audit chain anchored outside the database. Now and then (and after every archive) a checkpoint is
 * written: where the live chain starts and where it ends (id and hash), signed with the audit key, which
 * the database does not hold. It goes to the log stream (a line "audit checkpoint") and to a file
 * (AUDIT_CHECKPOINT_FILE). `upc-mcp audit verify` checks the database against the latest checkpoint:
 * events trimmed at either end, a forged seal, or a chain rewritten and rehashed by someone with full
 * database rights are found, because none of them can produce a matching signed checkpoint.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import { stableStringify } from '../core/stable-json.js';
import type { AuditTables } from './audit.tables.js';

export interface Checkpoint {
  /** When it was taken (ISO 8601, UTC: a log record). */
  at: string;
  /** The first live event (after archiving, the one after the latest seal); 0 when the log is empty. */
  first_id: number;
  /** The chain head: the last event and its hash. */
  last_id: number;
  last_hash: string;
  /** Why it was written: periodic, shutdown or archive. */
  reason: 'periodic' | 'shutdown' | 'archive';
}

export interface SignedCheckpoint extends Checkpoint {
  signature: string;
}

export function signCheckpoint(key: Buffer, checkpoint: Checkpoint): SignedCheckpoint {
  return { ...checkpoint, signature: hmac(key, checkpoint) };
}

export function checkpointSignatureValid(key: Buffer, signed: SignedCheckpoint): boolean {
  const { signature, ...checkpoint } = signed;
  const expected = Buffer.from(hmac(key, checkpoint));
  const given = Buffer.from(String(signature));
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function hmac(key: Buffer, checkpoint: Checkpoint): string {
  const canonical = stableStringify({
    at: checkpoint.at,
    first_id: checkpoint.first_id,
    last_id: checkpoint.last_id,
    last_hash: checkpoint.last_hash,
    reason: checkpoint.reason,
  });
  return createHmac('sha256', key).update(`upc-mcp audit checkpoint:${canonical}`).digest('hex');
}

/** The chain as the database has it now: first live event and head. */
export async function currentChain(
  db: Kysely<AuditTables>,
): Promise<{ firstId: number; lastId: number; lastHash: string }> {
  const { rows } = await sql<{
    first_id: string | number | null;
    last_id: string | number;
    last_hash: string;
  }>`
    SELECT (SELECT min(id) FROM audit.events) AS first_id, h.last_id, h.last_hash
    FROM audit.chain_head h`.execute(db);
  const row = rows[0];
  return {
    firstId: Number(row?.first_id ?? 0),
    lastId: Number(row?.last_id ?? 0),
    lastHash: row?.last_hash ?? '',
  };
}

/** Takes, signs and appends a checkpoint to the file; returns it (the caller also logs it). */
export async function writeCheckpoint(
  db: Kysely<AuditTables>,
  key: Buffer,
  file: string,
  reason: Checkpoint['reason'],
): Promise<SignedCheckpoint> {
  const chain = await currentChain(db);
  const signed = signCheckpoint(key, {
    at: new Date().toISOString(),
    first_id: chain.firstId,
    last_id: chain.lastId,
    last_hash: chain.lastHash,
    reason,
  });
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(file, `${JSON.stringify(signed)}\n`, { mode: 0o600 });
  return signed;
}

export function readCheckpoints(file: string): unknown[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        return { unreadable: line.slice(0, 80) };
      }
    });
}

export type CheckpointVerdict =
  | { ok: true; checkpoints: number; latest?: SignedCheckpoint }
  | { ok: false; checkpoints: number; reason: string };

/**
 * Checks the database's chain against the checkpoints: every checkpoint must carry a valid signature, and
 * the latest one must still hold: its last event present with the same hash (nothing trimmed at the end,
 * nothing rewritten before it) and the live chain starting where it said (nothing trimmed at the start
 * beyond a signed archive).
 */
export async function verifyAgainstCheckpoints(
  db: Kysely<AuditTables>,
  key: Buffer,
  file: string,
): Promise<CheckpointVerdict> {
  const entries = readCheckpoints(file);
  const signed: SignedCheckpoint[] = [];
  for (const [index, entry] of entries.entries()) {
    const candidate = entry as SignedCheckpoint;
    if (typeof candidate?.signature !== 'string' || !checkpointSignatureValid(key, candidate)) {
      return {
        ok: false,
        checkpoints: entries.length,
        reason:
          `checkpoint ${index + 1} in ${file} is not signed with this audit key: altered or forged, or ` +
          'verify runs with another AUDIT_KEY / JWT_SECRET_KEY than the server',
      };
    }
    signed.push(candidate);
  }
  const latest = signed.reduce<SignedCheckpoint | undefined>(
    (best, c) =>
      !best || c.last_id > best.last_id || (c.last_id === best.last_id && c.at > best.at) ? c : best,
    undefined,
  );
  if (!latest) return { ok: true, checkpoints: 0 };
  const chain = await currentChain(db);
  const fail = (reason: string): CheckpointVerdict => ({ ok: false, checkpoints: signed.length, reason });
  if (chain.lastId < latest.last_id)
    return fail(
      `the log ends at event ${chain.lastId}, but a signed checkpoint of ${latest.at} saw it reach ${latest.last_id} (events trimmed at the end)`,
    );
  // The first live event may only move forward through a signed archive checkpoint.
  const start = signed.reduce((max, c) => Math.max(max, c.first_id), 0);
  if (latest.last_id > 0 && chain.firstId > start && chain.firstId > 0)
    return fail(
      `the log starts at event ${chain.firstId}, but the signed checkpoints say it starts at ${start} (events trimmed at the start)`,
    );
  if (latest.last_id > 0 && latest.last_id >= chain.firstId) {
    const { rows } = await sql<{ hash: string }>`
      SELECT hash FROM audit.events WHERE id = ${latest.last_id}`.execute(db);
    if (!rows[0]) return fail(`event ${latest.last_id}, anchored by a signed checkpoint, is missing`);
    if (rows[0].hash !== latest.last_hash)
      return fail(
        `event ${latest.last_id} no longer has the hash a signed checkpoint of ${latest.at} recorded (the chain was rewritten)`,
      );
  }
  return { ok: true, checkpoints: signed.length, latest };
}
