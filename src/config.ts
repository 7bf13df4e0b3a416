import { z } from 'zod';

/**
 * Every setting the server reads, with its default. `.env.example` documents the same list; a test keeps
 * the two in step. A wrong value stops start-up with one line naming every bad variable (ConfigError).
 */
const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const optionalUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(z.url().optional())
  .optional();

const commaList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );

const booleanFlag = z
  .enum(['0', '1', 'true', 'false', 'yes', 'no', ''])
  .transform((v) => v === '1' || v === 'true' || v === 'yes')
  .optional();

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
      .optional(),
  ),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(15_000),
  ORTHANC_URL: z.url().default('http://127.0.0.1:8042'),
  ORTHANC_USERNAME: optionalString,
  ORTHANC_PASSWORD: optionalString,
  ORTHANC_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  ORTHANC_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  ORTHANC_BREAKER_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(5),
  ORTHANC_BREAKER_COOLDOWN_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  ORTHANC_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
  JWT_SECRET_KEY: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  // Signs the audit chain's external checkpoints and keys identifier hashes in the audit log; kept out of
  // the database. Default: derived from the JWT signing secret.
  AUDIT_KEY: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  // Signed checkpoints of the audit chain go to the log and to this file (default DATA_DIR/audit-checkpoints.jsonl),
  // every AUDIT_CHECKPOINT_SECONDS while events are written, at shutdown and after each archive.
  AUDIT_CHECKPOINT_FILE: optionalString,
  // `upc-mcp audit archive` connects with these credentials (a login in role upc_audit_archiver).
  AUDIT_ARCHIVE_DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
      .optional(),
  ),
  AUDIT_CHECKPOINT_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  JWT_ISSUER: z.string().min(1).default('upc-mcp'),
  JWT_AUDIENCE: z.string().min(1).default('upc-mcp'),
  JWKS_URL: optionalUrl,
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
  REDIS_URL: optionalString.pipe(
    z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .optional(),
  ),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." or "-" (1-64)')
    .default('upc'),
  PACS_CACHE_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  RIS_REFERENCE_CACHE_TTL_MS: z.coerce.number().int().min(0).max(86_400_000).default(300_000),
  CACHE_MAX_ENTRIES: z.coerce.number().int().min(1).max(10_000_000).default(10_000),
  CACHE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024 * 1024)
    .default(64 * 1024 * 1024),
  POLICY_FILE: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(512 * 1024 * 1024)
    .default(50 * 1024 * 1024),
  DEMO_DATA: booleanFlag,
  METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  // 1 lets loopback callers read /metrics without a token. Off by default: behind a same-host reverse
  // proxy every client looks like loopback.
  METRICS_ALLOW_LOOPBACK: booleanFlag,
  LOAD_SHED_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(0),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(20_000),
  // MCP door (src/mcp): DNS-rebinding protection, discovery metadata, stdio identity, test modes.
  MCP_ALLOWED_HOSTS: commaList('localhost,127.0.0.1,[::1]'),
  MCP_ALLOWED_ORIGINS: commaList('localhost,127.0.0.1,[::1]'),
  MCP_PUBLIC_URL: optionalUrl,
  MCP_SCOPES: commaList(''),
  MCP_CONFORMANCE_FIXTURES: booleanFlag,
  UPC_INSECURE_NO_AUTH: booleanFlag,
  UPC_TOKEN: optionalString,
  // Chat agent (src/llm): an OpenAI-compatible chat completions endpoint (Ollama /v1, llama.cpp, vLLM, LM
  // Studio, OpenAI). Unset LLM_BASE_URL or LLM_MODEL: POST /mcp/v1/chat answers 503 naming them.
  LLM_BASE_URL: optionalUrl,
  LLM_MODEL: optionalString,
  LLM_API_KEY: optionalString,
  LLM_PROVIDER_LOCATION: z.enum(['local', 'external']).default('local'),
  LLM_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(60_000),
  CHAT_MAX_STEPS: z.coerce.number().int().min(1).max(50).default(8),
  CHAT_MAX_SECONDS: z.coerce.number().int().min(1).max(3600).default(120),
  CHAT_MAX_TOKENS: z.coerce.number().int().min(100).max(10_000_000).default(60_000),
  CHAT_SESSION_TTL_MINUTES: z.coerce.number().int().min(1).max(10_080).default(60),
  CHAT_MAX_HISTORY_MESSAGES: z.coerce.number().int().min(4).max(1000).default(60),
  // Fault injection for crash tests: kill-after-commit SIGKILLs the process right after a write call's
  // transaction commits (before its audit intent is sealed or its answer sent). Refused in production.
  UPC_TEST_FAULT: z.enum(['kill-after-commit']).optional(),
  // The product clock starts here instead of now (training, demos, process tests); refused in production.
  UPC_CLOCK_START: optionalString.pipe(
    z.iso
      .datetime({
        offset: true,
        message: 'must be an ISO 8601 time with its offset, e.g. 2026-11-30T08:00:00+02:00',
      })
      .optional(),
  ),
});

export type Config = z.output<typeof configSchema>;
export type ConfigInput = Partial<Record<keyof z.input<typeof configSchema>, string>>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the configuration from an environment-like record, validating every variable at once. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const known: Record<string, string | undefined> = {};
  for (const key of Object.keys(configSchema.shape)) known[key] = env[key];
  const parsed = configSchema.safeParse(known);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? 'config');
      const value = env[variable];
      const shown =
        variable.includes('SECRET') ||
        variable.includes('PASSWORD') ||
        variable.includes('TOKEN') ||
        variable.endsWith('_KEY')
          ? '(hidden)'
          : JSON.stringify(value);
      return `${variable}=${shown}: ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  const config = parsed.data;
  const productionProblems: string[] = [];
  if (config.NODE_ENV === 'production' && !config.JWT_SECRET_KEY && !config.JWKS_URL) {
    productionProblems.push('JWT_SECRET_KEY: required when NODE_ENV=production (or set JWKS_URL)');
  }
  if (config.NODE_ENV === 'production' && config.MCP_CONFORMANCE_FIXTURES) {
    productionProblems.push('MCP_CONFORMANCE_FIXTURES: test fixtures are refused when NODE_ENV=production');
  }
  if (config.NODE_ENV === 'production' && config.UPC_INSECURE_NO_AUTH) {
    productionProblems.push(
      'UPC_INSECURE_NO_AUTH: running without authentication is refused when NODE_ENV=production',
    );
  }
  if (config.NODE_ENV === 'production' && config.UPC_TEST_FAULT) {
    productionProblems.push('UPC_TEST_FAULT: fault injection is refused when NODE_ENV=production');
  }
  if (config.NODE_ENV === 'production' && config.UPC_CLOCK_START) {
    productionProblems.push('UPC_CLOCK_START: a chosen clock is refused when NODE_ENV=production');
  }
  // A call in progress at SIGTERM may run up to the statement timeout; the grace period must outlast it,
  // or the call is cut off without an answer or an audit event.
  if (
    config.DATABASE_STATEMENT_TIMEOUT_MS > 0 &&
    config.SHUTDOWN_GRACE_MS > 0 &&
    config.SHUTDOWN_GRACE_MS <= config.DATABASE_STATEMENT_TIMEOUT_MS
  ) {
    productionProblems.push(
      `SHUTDOWN_GRACE_MS=${config.SHUTDOWN_GRACE_MS}: must be longer than DATABASE_STATEMENT_TIMEOUT_MS ` +
        `(${config.DATABASE_STATEMENT_TIMEOUT_MS}) so a call in progress at shutdown can finish; e.g. ` +
        `${config.DATABASE_STATEMENT_TIMEOUT_MS + 5000}`,
    );
  }
  if (productionProblems.length > 0) throw new ConfigError(productionProblems);
  return config;
}

/** A complete configuration for tests and tools, starting from the defaults. */
export function testConfig(overrides: ConfigInput = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...overrides });
}
