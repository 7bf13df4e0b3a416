import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Config } from '../config.js';
import { resolveJwtSecret } from '../security/jwt-secret.js';

/**
 * The audit key: signs the chain's external checkpoints and keys the hashes of identifiers in audit
 * parameters. It lives outside the database (AUDIT_KEY, else derived from the JWT signing secret, which
 * is an environment setting or a file in DATA_DIR), so whoever can rewrite the database cannot forge it.
 */
/** Where the signed checkpoints of the audit chain are kept. */
export function checkpointFile(config: Pick<Config, 'AUDIT_CHECKPOINT_FILE' | 'DATA_DIR'>): string {
  return path.resolve(config.AUDIT_CHECKPOINT_FILE ?? path.join(config.DATA_DIR, 'audit-checkpoints.jsonl'));
}

export function auditKey(
  config: Pick<Config, 'AUDIT_KEY' | 'JWT_SECRET_KEY' | 'DATA_DIR' | 'NODE_ENV'>,
): Buffer {
  const base = config.AUDIT_KEY ?? resolveJwtSecret(config);
  return createHash('sha256').update(`upc-mcp audit key:${base}`).digest();
}
