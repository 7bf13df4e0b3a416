import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Generated, Kysely } from 'kysely';
import type { Clock } from './clock.js';
import type { Principal } from './context.js';
import { ToolError } from './errors.js';
import { sha256Hex, stableStringify } from './stable-json.js';

type ConfirmationTables = {
  'core.used_confirmations': { nonce: string; used_at: Generated<Date> };
};

const TOKEN_TTL_MS = 5 * 60_000;

interface TokenClaims {
  /** subject */
  s: string;
  /** tool */
  t: string;
  /** hash of the exact parameters */
  h: string;
  /** expiry, ms since epoch */
  e: number;
  /** nonce, single use */
  n: string;
}

/**
 * Two-step confirmation for tools that must not run on a model's say-so alone (sign, submit, send, cancel).
 * The first call answers CONFIRMATION_REQUIRED with a token bound to the caller, the tool and the exact
 * parameters; the second call passes it back. Tokens are HMAC-signed (any replica can check them) and
 * single use (the nonce is recorded in the shared database).
 */
export class ConfirmationGate {
  readonly #db: Kysely<ConfirmationTables>;
  readonly #key: Buffer;
  readonly #clock: Clock;

  // biome-ignore lint/suspicious/noExplicitAny: narrowed to this gate's one table below
  constructor(db: Kysely<any>, secret: string, clock: Clock) {
    this.#clock = clock;
    this.#db = db.withTables<ConfirmationTables>();
    this.#key = Buffer.from(`confirmation:${secret}`);
  }

  issue(principal: Principal, tool: string, parameters: unknown): { token: string; expiresAt: Date } {
    const claims: TokenClaims = {
      s: principal.subject,
      t: tool,
      h: sha256Hex(stableStringify(parameters)),
      e: this.#clock.now().getTime() + TOKEN_TTL_MS,
      n: randomUUID(),
    };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { token: `${payload}.${this.#sign(payload)}`, expiresAt: new Date(claims.e) };
  }

  /** Throws unless the token is valid for exactly this caller, tool and parameters; then burns it. */
  async redeem(principal: Principal, tool: string, parameters: unknown, token: string): Promise<void> {
    const claims = this.#verify(token);
    if (!claims || claims.s !== principal.subject || claims.t !== tool) {
      throw invalid('The confirmation token is not valid for this caller and tool.');
    }
    if (claims.e < this.#clock.now().getTime())
      throw invalid('The confirmation token has expired; ask for confirmation again.');
    if (claims.h !== sha256Hex(stableStringify(parameters))) {
      throw invalid('The parameters differ from the ones that were confirmed; ask for confirmation again.');
    }
    const used = await this.#db
      .insertInto('core.used_confirmations')
      .values({ nonce: claims.n })
      .onConflict((oc) => oc.doNothing())
      .returning('nonce')
      .executeTakeFirst();
    if (!used) throw invalid('The confirmation token was already used.');
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }

  #verify(token: string): TokenClaims | undefined {
    const [payload, signature] = token.split('.');
    if (!payload || !signature) return undefined;
    const expected = Buffer.from(this.#sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      return JSON.parse(Buffer.from(payload, 'base64url').toString()) as TokenClaims;
    } catch {
      return undefined;
    }
  }
}

function invalid(message: string): ToolError {
  return new ToolError('CONFIRMATION_REQUIRED', message);
}
