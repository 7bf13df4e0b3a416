import { createHmac } from 'node:crypto';
import { sha256Hex } from '../core/stable-json.js';
import { storable } from '../core/text.js';

const SECRET_KEY = /pass(word)?|secret|token|authori[sz]ation|api[_-]?key|credential/i;
const MAX_STRING = 500;
/** From this length a string that is all base64 is taken for an encoded file and summarised. */
const BLOB_MIN_LENGTH = 1024;
const MAX_DEPTH = 8;
const MAX_ARRAY = 100;
const MAX_KEYS = 200;
/** National identifiers and member numbers: kept as keyed hashes, never in clear (auditors read parameters). */
export const IDENTIFIER_KEYS: ReadonlySet<string> = new Set([
  'sa_id_number',
  'medical_aid_number',
  'member_number',
  'OtherPatientIDs',
]);

export interface AuditSanitiseOptions {
  /** Key for identifier hashes (not held by the database); without one identifiers are masked whole. */
  identifierKey?: Buffer;
}

/**
 * An identifier as the audit log keeps it: an HMAC, so events about one number can still be found (by an
 * administrator who hashes the number with the same key: admin_search_audit's sa_id_number filter) but the
 * number cannot be read back.
 */
export function keyedIdentifier(value: string, key: Buffer | undefined): string {
  if (!key) return '[identifier withheld]';
  return `hmac:${createHmac('sha256', key).update(storable(value.trim())).digest('hex').slice(0, 32)}`;
}

/**
 * Parameters as they are kept in the audit log: secrets removed, binaries (and base64 files) replaced by
 * their size and SHA-256, long strings cut at 500 characters, NUL and lone surrogates made storable.
 * Linear in the size of its input and bounded in the size of its output: it cannot fail on content, so
 * one odd call can never stop the audit log (a regular expression over an 8 MB string once did).
 */
export function sanitiseForAudit(value: unknown, options: AuditSanitiseOptions = {}, depth = 0): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return sanitiseString(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'boolean') return value;
  if (value instanceof Uint8Array) return binarySummary(value.byteLength, sha256Hex(value));
  if (depth >= MAX_DEPTH) return '[nested too deeply]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ARRAY).map((item) => sanitiseForAudit(item, options, depth + 1));
    if (value.length > MAX_ARRAY) items.push(`[${value.length - MAX_ARRAY} more items]`);
    return items;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    let kept = 0;
    for (const key in value as Record<string, unknown>) {
      if (!Object.hasOwn(value, key)) continue;
      if (kept++ >= MAX_KEYS) {
        out['[more keys]'] = true;
        break;
      }
      const item = (value as Record<string, unknown>)[key];
      const safeKey = storable(key.slice(0, 100));
      if (SECRET_KEY.test(safeKey)) out[safeKey] = '[removed]';
      else if (IDENTIFIER_KEYS.has(safeKey) && typeof item === 'string')
        out[safeKey] = keyedIdentifier(item, options.identifierKey);
      else out[safeKey] = sanitiseForAudit(item, options, depth + 1);
    }
    return out;
  }
  return String(value);
}

function sanitiseString(text: string): unknown {
  if (text.length >= BLOB_MIN_LENGTH && isBase64(text)) {
    const bytes = Buffer.from(text, 'base64'); // linear; the hash is of the file itself
    return binarySummary(bytes.byteLength, sha256Hex(bytes));
  }
  const clean = storable(text.length > MAX_STRING ? text.slice(0, MAX_STRING + 1) : text);
  return text.length > MAX_STRING ? `${clean.slice(0, MAX_STRING)}…[${text.length} chars]` : clean;
}

/** True when every character is in the base64 alphabet (or a line break): one pass, no backtracking. */
function isBase64(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ok =
      (c >= 65 && c <= 90) || // A-Z
      (c >= 97 && c <= 122) || // a-z
      (c >= 48 && c <= 57) || // 0-9
      c === 43 || // +
      c === 47 || // /
      c === 61 || // =
      c === 10 ||
      c === 13;
    if (!ok) return false;
  }
  return true;
}

/** A file, described by its size and hash: the audit log records that it was sent, not its content. */
function binarySummary(bytes: number, sha256: string): { binary: true; bytes: number; sha256: string } {
  return { binary: true, bytes, sha256 };
}
