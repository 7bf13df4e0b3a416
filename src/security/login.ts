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

/** The one answer to a failed sign-in, whatever failed: nobody learns which usernames exist. */
export const SIGN_IN_REFUSED =
  'Wrong username or password. After repeated failures sign-in for that name is slowed down for a while; ' +
  'an administrator can unlock an account.';

/**
 * Password sign-in for built-in users.
 * - Unknown, wrong-password, disabled and locked accounts get the same answer, and unknown users cost the
 *   same argon2 work, so neither the message nor the timing reveals who has an account.
 * - Failures slow a username down on a curve (after `lock_after_failures`, 30 s doubling up to
 *   `lock_minutes`), counted alike for names that exist and names that do not; an administrator can
 *   unlock (`upc-mcp users unlock`), and a successful sign-in resets it.
 * - An address is slowed only after `address_limit` failures in the window (password spraying): high
 *   enough that a practice behind one NAT address is not locked out by a stranger's few guesses.
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
    const peek = (key: string) => this.counters.peek(key).catch(() => ({ count: 0, resetInMs: 0 }));
    const [byName, byAddress] = await Promise.all([peek(`login:user:${name}`), peek(`login:ip:${ip}`)]);
    const user = await findUser(this.db, name);
    // The same curve for every name: a real account keeps its count in the database (so an administrator
    // can unlock it), a name that does not exist in the counters; the answers are the same.
    const nameWait = user
      ? Math.max(0, (user.lockedUntil?.getTime() ?? 0) - Date.now())
      : byName.count >= this.limits.lock_after_failures
        ? Math.min(waitAfterFailures(byName.count, this.limits), byName.resetInMs)
        : 0;
    const addressWait = byAddress.count >= this.limits.address_limit ? byAddress.resetInMs : 0;
    const waitMs = Math.max(nameWait, addressWait);
    if (waitMs > 0) {
      const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
      throw new ToolError(
        'RATE_LIMITED',
        `Too many failed sign-ins for this name or from this address. Try again in ${retryAfter} s.`,
        { retry_after_seconds: retryAfter },
      );
    }
    const valid = await verifyPassword(user?.passwordHash ?? (await this.#dummy()), password);
    if (!user || !valid || user.disabled) {
      const failures = (user ? user.failedAttempts : byName.count) + 1;
      await Promise.all([
        this.counters.hit(`login:ip:${ip}`, windowMs).catch(() => undefined),
        this.counters.hit(`login:user:${name}`, windowMs).catch(() => undefined),
        user && !user.disabled
          ? recordFailedLogin(this.db, name, waitAfterFailures(failures, this.limits))
          : undefined,
      ]);
      throw new ToolError('UNAUTHENTICATED', SIGN_IN_REFUSED);
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

/** How long a name must wait after this many failures: nothing, then 30 s doubling up to lock_minutes. */
export function waitAfterFailures(failures: number, limits: PolicyDocument['rate_limits']['login']): number {
  if (failures < limits.lock_after_failures) return 0;
  const doublings = Math.min(failures - limits.lock_after_failures, 20);
  return Math.min(30_000 * 2 ** doublings, limits.lock_minutes * 60_000);
}
