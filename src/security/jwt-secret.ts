import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';

const SECRET_FILE = 'jwt-secret.key';

/**
 * The HS256 signing key. In development a missing JWT_SECRET_KEY is generated once and kept in DATA_DIR
 * (mode 600), so tokens survive restarts without any set-up; production refuses to start without one.
 */
export function resolveJwtSecret(config: Pick<Config, 'JWT_SECRET_KEY' | 'DATA_DIR' | 'NODE_ENV'>): string {
  if (config.JWT_SECRET_KEY) return config.JWT_SECRET_KEY;
  if (config.NODE_ENV === 'production')
    throw new Error('JWT_SECRET_KEY is required when NODE_ENV=production');
  const file = path.resolve(config.DATA_DIR, SECRET_FILE);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secret;
}
