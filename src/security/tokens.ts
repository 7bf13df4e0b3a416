import { randomUUID } from 'node:crypto';
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JWTPayload,
  type JWTVerifyResult,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from 'jose';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { Config } from '../config.js';
import { type Principal, ROLES } from '../core/context.js';
import { ToolError } from '../core/errors.js';
import type { Authenticator } from '../core/pipeline.js';

const claimsSchema = z.object({
  sub: z.string().min(1),
  role: z.enum(ROLES),
  patients: z.array(z.string().min(1)).max(10_000).optional(),
  jti: z.string().optional(),
});

const HMAC_ALGORITHMS = ['HS256'];
/** A verified token is trusted without re-checking its signature for at most this long (and never past exp). */
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_MAX_ENTRIES = 10_000;
const ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256'];

export interface TokenSettings {
  secret: string;
  issuer: string;
  audience: string;
  jwksUrl?: string;
}

export function tokenSettings(config: Config, secret: string): TokenSettings {
  const settings: TokenSettings = { secret, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE };
  if (config.JWKS_URL) settings.jwksUrl = config.JWKS_URL;
  return settings;
}

export interface IssueTokenInput {
  subject: string;
  role: Principal['role'];
  patients?: string[];
  ttlSeconds?: number;
}

/** Signs an HS256 token for this server (development helper and built-in users). */
export async function issueToken(settings: TokenSettings, input: IssueTokenInput): Promise<string> {
  const claims: JWTPayload & { role: string; patients?: string[] } = { role: input.role };
  if (input.patients && input.patients.length > 0) claims.patients = input.patients;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(input.subject)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime(`${input.ttlSeconds ?? 3600}s`)
    .sign(new TextEncoder().encode(settings.secret));
}

/**
 * Checks bearer tokens: signature, required `exp`, `nbf`, issuer and audience (a token minted for another
 * service is refused). The algorithm list is fixed per key type, which rules out `alg:none` and HS/RS
 * confusion: an HS256 token is only ever checked against the shared secret, RS/ES only against the JWKS.
 */
export class JwtAuthenticator implements Authenticator {
  readonly #secret: Uint8Array;
  readonly #jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  /**
   * Principals of recently verified tokens, keyed by the whole token string (signature included, so a
   * tampered token never matches). Signature checks cost ~80 µs of CPU each and a client sends the same
   * token with every call; the profile under load showed them as the largest single item. An entry lives
   * until min(exp, verified + 60 s): an expired token is always verified again, and refused.
   */
  readonly #verified = new LRUCache<string, { principal: Principal; expiresAt: number }>({
    max: VERIFIED_MAX_ENTRIES,
  });

  constructor(private readonly settings: TokenSettings) {
    this.#secret = new TextEncoder().encode(settings.secret);
    this.#jwks = settings.jwksUrl
      ? createRemoteJWKSet(new URL(settings.jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 600_000 })
      : undefined;
  }

  async authenticate(bearer: string | undefined): Promise<Principal> {
    if (!bearer) throw unauthenticated('A bearer token is required. Send "Authorization: Bearer <token>".');
    const cached = this.#verified.get(bearer);
    if (cached) {
      if (Date.now() < cached.expiresAt) return cached.principal;
      this.#verified.delete(bearer);
    }
    const verified = await this.#verify(bearer);
    const claims = claimsSchema.safeParse(verified.payload);
    if (!claims.success) {
      throw unauthenticated('The token lacks a valid "sub" or "role" claim.');
    }
    const principal: Principal = { subject: claims.data.sub, role: claims.data.role };
    if (claims.data.patients) principal.patients = claims.data.patients;
    if (claims.data.jti) principal.tokenId = claims.data.jti;
    // Shared by every call that presents this token, so nothing downstream may change it.
    if (principal.patients) Object.freeze(principal.patients);
    Object.freeze(principal);
    const exp = verified.payload.exp;
    if (typeof exp === 'number') {
      this.#verified.set(bearer, {
        principal,
        expiresAt: Math.min(exp * 1000, Date.now() + VERIFIED_TTL_MS),
      });
    }
    return principal;
  }

  async #verify(token: string): Promise<JWTVerifyResult> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw unauthenticated('The bearer token is malformed.');
    }
    const options = {
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      requiredClaims: ['exp', 'sub'],
      clockTolerance: 5,
    };
    try {
      if (alg && HMAC_ALGORITHMS.includes(alg)) {
        return await jwtVerify(token, this.#secret, { ...options, algorithms: HMAC_ALGORITHMS });
      }
      if (alg && ASYMMETRIC_ALGORITHMS.includes(alg) && this.#jwks) {
        return await jwtVerify(token, this.#jwks, { ...options, algorithms: ASYMMETRIC_ALGORITHMS });
      }
    } catch (error) {
      throw unauthenticated(describeJoseError(error));
    }
    throw unauthenticated(`Tokens signed with "${alg ?? 'none'}" are not accepted here.`);
  }
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The token has expired. Get a new one.';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'The token is not valid yet.';
    if (error.claim === 'aud') return 'The token was issued for another service (audience mismatch).';
    if (error.claim === 'iss') return 'The token was issued by an unknown issuer.';
    return `The token's "${error.claim}" claim is invalid.`;
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'The token signature is invalid.';
  if (error instanceof joseErrors.JWKSNoMatchingKey)
    return 'No key of the identity provider matches the token.';
  return 'The bearer token could not be verified.';
}

function unauthenticated(message: string): ToolError {
  return new ToolError('UNAUTHENTICATED', message);
}
