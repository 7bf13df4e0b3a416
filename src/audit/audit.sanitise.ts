import { sha256Hex } from '../core/stable-json.js';

const SECRET_KEY = /pass(word)?|secret|token|authori[sz]ation|api[_-]?key|credential/i;
const MAX_STRING = 500;
const BASE64_BLOB = /^[A-Za-z0-9+/=\r\n]{1024,}$/;
const MAX_DEPTH = 8;
const MAX_ARRAY = 100;

/**
 * Parameters as they are kept in the audit log: secrets removed, binaries replaced by their size and
 * SHA-256, long strings cut at 500 characters, NUL characters dropped (PostgreSQL JSON refuses them).
 */
export function sanitiseForAudit(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return sanitiseString(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'boolean') return value;
  if (value instanceof Uint8Array) return binarySummary(value);
  if (depth >= MAX_DEPTH) return '[nested too deeply]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ARRAY).map((item) => sanitiseForAudit(item, depth + 1));
    if (value.length > MAX_ARRAY) items.push(`[${value.length - MAX_ARRAY} more items]`);
    return items;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const safeKey = String(sanitiseString(key));
      out[safeKey] = SECRET_KEY.test(key) ? '[removed]' : sanitiseForAudit(item, depth + 1);
    }
    return out;
  }
  return String(value);
}

function sanitiseString(text: string): unknown {
  if (BASE64_BLOB.test(text)) return binarySummary(Buffer.from(text, 'base64'));
  // Lone surrogates and NUL cannot be stored in jsonb; one bad string must not fail a whole batch.
  const wellFormed = text.isWellFormed() ? text : text.toWellFormed();
  const clean = wellFormed.includes('\u0000') ? wellFormed.replaceAll('\u0000', '') : wellFormed;
  return clean.length > MAX_STRING ? `${clean.slice(0, MAX_STRING)}…[${clean.length} chars]` : clean;
}

function binarySummary(bytes: Uint8Array): { binary: true; bytes: number; sha256: string } {
  return { binary: true, bytes: bytes.byteLength, sha256: sha256Hex(bytes) };
}
