import type { Kysely } from 'kysely';
import { ToolError } from '../core/errors.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { PolicyDocument } from './policy.js';
import type { CounterStore } from './rate-limit.js';
import { issueToken, type TokenSettings } from './tokens.js';
import {
  findUser,
  recordFailedLogin,
  recordSuccessfulLogin,
  type SecurityTables,
  type UserRecord,
} from './users.store.js';

export interface IssuedToken {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
}

/**
 * Password sign-in for built-in users. Failed attempts are counted per client address and per username
 * (over the limit → RATE_LIMITED with Retry-After), and repeated failures lock the account for a while.
 * Unknown users cost the same argon2 work as known ones, so timing does not reveal who has an account.
 */
export class LoginService {
  #dummyHash: Promise<string> | undefined;

  constructor(
    private readonly db: Kysely<SecurityTables>,
    private readonly tokens: TokenSettings,
    private readonly counters: CounterStore,
    private readonly limits: PolicyDocument['rate_limits']['login'],
    private readonly tokenTtlSeconds: number,
  ) {}

  async login(
    username: string,
    password: string,
    ip: string,
  ): Promise<{ token: IssuedToken; user: UserRecord }> {
    const name = username.trim().toLowerCase();
    const windowMs = this.limits.window_seconds * 1000;
    for (const key of [`login:ip:${ip}`, `login:user:${name}`]) {
      const seen = await this.counters.peek(key).catch(() => ({ count: 0, resetInMs: 0 }));
      if (seen.count >= this.limits.limit) {
        const retryAfter = Math.max(1, Math.ceil(seen.resetInMs / 1000));
        throw new ToolError('RATE_LIMITED', `Too many failed sign-ins. Try again in ${retryAfter} s.`, {
          retry_after_seconds: retryAfter,
        });
      }
    }
    const user = await findUser(this.db, name);
    const valid = await verifyPassword(user?.passwordHash ?? (await this.#dummy()), password);
    if (user?.lockedUntil && user.lockedUntil > new Date()) {
      throw new ToolError(
        'UNAUTHENTICATED',
        `This account is locked after repeated failed sign-ins until ${user.lockedUntil.toISOString()}. An administrator can unlock it.`,
      );
    }
    if (!user || !valid || user.disabled) {
      await Promise.all([
        this.counters.hit(`login:ip:${ip}`, windowMs).catch(() => undefined),
        this.counters.hit(`login:user:${name}`, windowMs).catch(() => undefined),
        user && !user.disabled
          ? recordFailedLogin(
              this.db,
              name,
              this.limits.lock_after_failures,
              this.limits.lock_minutes * 60_000,
            )
          : undefined,
      ]);
      throw new ToolError(
        'UNAUTHENTICATED',
        'The username or password is wrong, or the account is disabled.',
      );
    }
    await recordSuccessfulLogin(this.db, name);
    const accessToken = await issueToken(this.tokens, {
      subject: user.username,
      role: user.role,
      ttlSeconds: this.tokenTtlSeconds,
      ...(user.patients.length > 0 ? { patients: user.patients } : {}),
    });
    return {
      token: { access_token: accessToken, token_type: 'bearer', expires_in: this.tokenTtlSeconds },
      user,
    };
  }

  #dummy(): Promise<string> {
    this.#dummyHash ??= hashPassword('not-a-real-password-only-for-timing');
    return this.#dummyHash;
  }
}
