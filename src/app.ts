import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';
import { auditKey, checkpointFile } from './audit/audit.key.js';
import { auditModule } from './audit/audit.module.js';
import { AuditWriter } from './audit/audit.writer.js';
import { createReadCache } from './cache/read-cache.js';
import type { Config } from './config.js';
import type { ReadCache } from './core/cache.js';
import { type Clock, clockFor } from './core/clock.js';
import { ConfirmationGate } from './core/confirmation.js';
import { errorBody, ToolError } from './core/errors.js';
import { IdempotencyStore } from './core/idempotency.js';
import type { Module, ModuleDeps, ModuleFactory } from './core/module.js';
import { ModuleManager } from './core/module-manager.js';
import { InvocationPipeline } from './core/pipeline.js';
import { PracticeZone } from './core/practice-time.js';
import type { PromptDefinition } from './core/prompts.js';
import { ToolRegistry } from './core/registry.js';
import { BackendResilience } from './core/resilience.js';
import { ResourceCatalog } from './core/resources.js';
import { PatientScopeResolver } from './core/scope.js';
import { jsonSchemaOf } from './core/tool.js';
import { inCallTransaction } from './db/call-transaction.js';
import { databaseToolError } from './db/database.errors.js';
import { type Database, openDatabase } from './db/database.js';
import { databaseModule } from './db/database.module.js';
import { loadMigrations, migrate, migrationDirs, migrationLabel } from './db/migrate.js';
import { snapshotOf } from './db/snapshot.js';
import { Outbox } from './events/outbox.js';
import { chatRoutes } from './llm/chat.routes.js';
import { RedisCancellationRelay } from './mcp/cancellation-relay.js';
import { mcpAuthenticator } from './mcp/identity.js';
import { createMcpSurface, type McpSurface, mcpRoutes } from './mcp/index.js';
import { adminModule } from './modules/admin/admin.module.js';
import { codesModule } from './modules/codes/codes.module.js';
import { pacsModule } from './modules/pacs/pacs.module.js';
import { reportingModule } from './modules/reporting/reporting.module.js';
import { risModule } from './modules/ris/ris.module.js';
import { healthRoutes } from './observability/health.routes.js';
import { registerLoadShedding } from './observability/load-shedding.js';
import {
  AccessLogController,
  clientRequestId,
  loggerOptions,
  requestIdFor,
} from './observability/logging.js';
import { Metrics } from './observability/metrics.js';
import { metricsPlugin } from './observability/metrics.plugin.js';
import { auditRoutes } from './rest/audit.routes.js';
import { authRoutes } from './rest/auth.routes.js';
import { backupRoutes } from './rest/backup.routes.js';
import { consoleRoutes } from './rest/console.routes.js';
import { auditDoorRefusals, authenticateBeforeLargeBodies } from './rest/door-guards.js';
import { errorsPlugin } from './rest/errors.plugin.js';
import { buildOpenApi } from './rest/openapi.js';
import { toolRoutes } from './rest/tools.routes.js';
import { uncoveredSensitiveFields } from './security/field-redactions.js';
import { resolveJwtSecret } from './security/jwt-secret.js';
import { LoginService } from './security/login.js';
import { Policy } from './security/policy.js';
import { MemoryCounterStore, RedisCounterStore, ToolRateLimiter } from './security/rate-limit.js';
import { RoleRedactor } from './security/redaction.js';
import { connectRedis } from './security/redis.js';
import { JwtAuthenticator, tokenSettings } from './security/tokens.js';
import { securityDb } from './security/users.store.js';
import { VERSION } from './version.js';

export interface AppParts {
  config: Config;
  /** The product clock: every calendar decision reads it (the machine's, unless chosen). */
  clock: Clock;
  /** The practice time zone: every time a person or model reads is shown in it. */
  practiceZone: PracticeZone;
  metrics: Metrics;
  redactor: RoleRedactor;
  policy: Policy;
  rateLimiter: ToolRateLimiter;
  auditWriter: AuditWriter;
  /** Cache for reads that tolerate staleness (PACS searches, reference data); Redis when REDIS_URL. */
  readCache: ReadCache;
  scope: PatientScopeResolver;
  database: Database;
  registry: ToolRegistry;
  pipeline: InvocationPipeline;
  manager: ModuleManager;
  /** MCP resources (patient://, study://, ...); modules register providers here. */
  resources: ResourceCatalog;
  mcp: McpSurface;
}

declare module 'fastify' {
  interface FastifyInstance {
    parts: AppParts;
  }
}

export interface BuildOptions {
  /** Use an already open database (tests share one); the app then leaves it open on close. */
  database?: Database;
  /** Where logs go (default stdout). `upc-mcp stdio` sends them to stderr: stdout carries the protocol. */
  logStream?: NodeJS.WritableStream;
  /** Serve the API reference page at /docs (default true); stdio has no use for it and starts faster. */
  apiReference?: boolean;
  /** The product clock (default: the machine's, or UPC_CLOCK_START); tests set the day they need. */
  clock?: Clock;
  /** Add-on modules after the product's own (an example module in its tests). */
  modules?: readonly ModuleFactory[];
}

/**
 * Builds the whole server without listening: database and migrations, modules, the tool registry, the
 * invocation pipeline and the HTTP doors. `main.ts` listens; tests call `inject()` or listen on port 0.
 */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const startedAt = new Date();
  const clock = options.clock ?? clockFor(config.UPC_CLOCK_START);
  const app = Fastify({
    logger: withStream(loggerOptions(config), options.logStream),
    genReqId: requestIdFor,
    logController: new AccessLogController({ requestIdLogLabel: 'request_id' }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: false,
    // While draining, new requests get our error shape with Retry-After (below), not Fastify's bare 503.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
  });

  // Created first so the database reports its statements too; audit stats are read lazily at scrape time.
  let auditWriter: AuditWriter | undefined;
  const metrics = new Metrics({
    auditStats: () =>
      auditWriter?.stats ?? { queued: 0, lastCommitMs: 0, committedEvents: 0, refusedEvents: 0 },
  });
  const ownsDatabase = !options.database;
  const database = options.database ?? (await openDatabase(config, { telemetry: metrics }));
  try {
    await migrate(database, {
      onApplied: (m) => app.log.info({ migration: migrationLabel(m) }, 'migration applied'),
    });
  } catch (error) {
    if (ownsDatabase) await database.close();
    throw error;
  }

  const practiceZone = new PracticeZone(database.db);
  const registry = new ToolRegistry();
  // Modules that know which patients a restricted caller may see (e.g. RIS referrals) add a source here.
  const scope = new PatientScopeResolver();
  const manager = new ModuleManager(app.log);
  // On PostgreSQL the audit writer gets connections of its own: a burst of handlers holding every pooled
  // connection must not make audit commits wait (every response waits for its event). PGlite has one
  // connection anyway.
  const auditDatabase =
    database.kind === 'postgres' && config.DATABASE_URL
      ? await openDatabase({ ...config, DATABASE_POOL_SIZE: 2 }, { telemetry: metrics })
      : database;
  const identifierKey = auditKey(config);
  auditWriter = new AuditWriter(auditDatabase.db, app.log, {
    key: identifierKey,
    // Write calls' events are written as intents in the call's own transaction, on the main database.
    intents: database.db,
    checkpoints: {
      file: checkpointFile(config),
      everyMs: config.AUDIT_CHECKPOINT_SECONDS * 1000,
    },
  });
  const readCache = createReadCache(config, app.log);
  // Domain events: written in the transaction of the change, delivered after commit (src/events/).
  const outbox = new Outbox(database.db, app.log, { telemetry: metrics });
  const published = new Map<string, unknown>();
  const deps: ModuleDeps = {
    config,
    database,
    clock,
    practiceZone,
    log: app.log,
    telemetry: metrics,
    system: {
      version: VERSION,
      startedAt,
      health: () => manager.health(),
      toolCount: () => registry.names().length,
      deadLetters: outbox,
    },
    caching: (ttlMs) => ({ cache: readCache, ttlMs, telemetry: metrics }),
    resilience: (backend, settings) => new BackendResilience(backend, settings, metrics),
    events: outbox,
    use<Api>(name: string): Api {
      if (!published.has(name))
        throw new Error(`Module "${name}" is not built yet: list it before the modules that use it`);
      return published.get(name) as Api;
    },
  };
  // The modules, in start order; a module may use the API of one listed before it.
  const factories: readonly ModuleFactory[] = [
    databaseModule,
    auditModule(auditWriter, identifierKey),
    codesModule,
    pacsModule,
    risModule,
    reportingModule,
    adminModule,
    ...(options.modules ?? []),
  ];
  const prompts: PromptDefinition[] = [];
  const resources = new ResourceCatalog();
  const redactionsByModule = new Map<string, Pick<Module, 'redactions' | 'redactionExempt'>>();
  try {
    for (const factory of factories) {
      const module = factory(deps);
      assertRedactionCovers(module);
      manager.add(module);
      if (module.api !== undefined) published.set(module.name, module.api);
      for (const tool of module.tools) registry.register(tool, module.name);
      for (const source of module.scopeSources ?? []) scope.addSource(source);
      for (const provider of module.resources ?? []) resources.register(provider);
      for (const part of module.resourceParts ?? []) resources.addPart(part);
      prompts.push(...(module.prompts ?? []));
      redactionsByModule.set(module.name, module);
    }
    // Add-on modules outside src/modules bring their migrations along.
    const addOnMigrations = manager.modules.flatMap((m) => (m.migrations ? [m.migrations] : []));
    if (addOnMigrations.length > 0)
      await migrate(database, { migrations: loadMigrations([...migrationDirs(), ...addOnMigrations]) });
    await outbox.start(manager.modules.flatMap((m) => m.eventHandlers ?? []));
    metrics.watchOutbox(() => outbox.stats());
  } catch (error) {
    // Nothing listens yet: close what was opened so a refused start leaves no pools or timers behind.
    await outbox.close();
    await auditWriter.close();
    await readCache.close();
    if (auditDatabase !== database) await auditDatabase.close();
    if (ownsDatabase) await database.close();
    throw error;
  }
  await manager.initializeAll();

  const secret = resolveJwtSecret(config);
  const policy = Policy.fromFile(config.POLICY_FILE);
  const counters = config.REDIS_URL
    ? new RedisCounterStore(connectRedis(config.REDIS_URL), config.REDIS_KEY_PREFIX)
    : new MemoryCounterStore();
  const rateLimiter = new ToolRateLimiter(policy.document, counters, app.log);
  const redactor = new RoleRedactor(policy);
  for (const [name, module] of redactionsByModule)
    redactor.declare(name, module.redactions ?? {}, module.redactionExempt);
  const authenticator = new JwtAuthenticator(tokenSettings(config, secret));
  const pipeline = new InvocationPipeline(
    registry,
    {
      authenticator,
      observers: [metrics],
      authorizer: policy,
      rateLimiter,
      redactor: redactor.redact,
      scope,
      confirmations: new ConfirmationGate(database.db, secret, clock),
      idempotency: new IdempotencyStore(database.db),
      audit: auditWriter,
      // PostgreSQL down or slow → UPSTREAM_UNAVAILABLE / UPSTREAM_TIMEOUT rather than INTERNAL.
      errorMapper: databaseToolError,
      formatTime: (instant) => practiceZone.format(instant),
      visibility: (role, kind) => policy.mayViewKind(role, kind),
      transactions: { run: database.runInCallTransaction, active: inCallTransaction },
      ...(config.UPC_TEST_FAULT === 'kill-after-commit'
        ? { afterCommit: () => process.kill(process.pid, 'SIGKILL') }
        : {}),
    },
    app.log,
  );
  // --- MCP door: the surface /mcp and `upc-mcp stdio` serve. ---
  const cancellationRelay = config.REDIS_URL
    ? new RedisCancellationRelay(config.REDIS_URL, config.REDIS_KEY_PREFIX)
    : undefined;
  const mcp = createMcpSurface({
    config,
    registry,
    pipeline,
    policy,
    resources,
    prompts,
    secret,
    version: VERSION,
    log: app.log,
    cancellationRelay,
  });
  // --- end MCP door ---
  app.decorate('parts', {
    config,
    clock,
    practiceZone,
    metrics,
    redactor,
    policy,
    rateLimiter,
    auditWriter,
    readCache,
    scope,
    database,
    registry,
    pipeline,
    manager,
    resources,
    mcp,
  });

  let shuttingDown = false;
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    if (shuttingDown && request.url !== '/health') {
      const refusal = new ToolError(
        'OVERLOADED',
        'This server is shutting down; send the request again (another replica, or this one once restarted).',
      );
      return reply
        .code(503)
        .header('retry-after', '1')
        .header('connection', 'close')
        .send({ success: false, error: errorBody(refusal, request.id) });
    }
    const callers = clientRequestId(request.headers);
    if (callers) {
      void reply.header('x-client-request-id', callers);
      request.log = request.log.child({ client_request_id: callers });
    }
  });
  app.addHook('preClose', async () => {
    shuttingDown = true;
  });
  app.addHook('onClose', async () => {
    await outbox.close();
    await manager.shutdownAll();
    await counters.close();
    await readCache.close();
    await cancellationRelay?.close();
    if (auditDatabase !== database) await auditDatabase.close();
    if (ownsDatabase) await database.close();
  });

  await app.register(errorsPlugin);
  auditDoorRefusals(app, auditWriter);
  if (!config.UPC_INSECURE_NO_AUTH) authenticateBeforeLargeBodies(app, authenticator);
  await app.register(metricsPlugin, {
    metrics,
    manager,
    authenticator,
    scrapeToken: config.METRICS_TOKEN,
    allowLoopback: config.METRICS_ALLOW_LOOPBACK === true,
  });
  await registerLoadShedding(app, config.LOAD_SHED_EVENT_LOOP_DELAY_MS);
  await app.register(helmet, {
    // The API reference page needs inline scripts and styles; everything else is JSON.
    contentSecurityPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  await app.register(cors, {
    origin: config.CORS_ORIGINS.length > 0 ? config.CORS_ORIGINS : false,
    exposedHeaders: ['x-request-id', 'x-client-request-id', 'retry-after', 'www-authenticate'],
  });
  await app.register(healthRoutes, { manager, version: VERSION, isShuttingDown: () => shuttingDown });
  await app.register(toolRoutes, {
    registry,
    pipeline,
    grantsFor: async (bearer) => {
      const { role } = await authenticator.authenticate(bearer);
      return (permission) => policy.allows(role, permission);
    },
  });
  await app.register(auditRoutes, { pipeline });
  // Chat door (issue 20): the model acts as the signed-in user through the pipeline (door `chat`).
  await app.register(chatRoutes, {
    config,
    pipeline,
    registry,
    authenticator,
    allows: (role, permission) => policy.allows(role, permission),
    db: database.db,
    clock,
    telemetry: metrics,
    describeNow: () => practiceZone.format(clock.now()),
  });
  const login = new LoginService(
    securityDb(database.db),
    tokenSettings(config, secret),
    counters,
    policy.document.rate_limits.login,
    config.ACCESS_TOKEN_TTL_SECONDS,
  );
  await app.register(authRoutes, { login, audit: auditWriter });
  // MCP door (issue 3): /mcp (Streamable HTTP) and /.well-known/oauth-protected-resource.
  await app.register(mcpRoutes, {
    config,
    surface: mcp,
    authenticator: mcpAuthenticator(authenticator, config.UPC_INSECURE_NO_AUTH === true),
    audit: auditWriter,
  });

  await app.register(backupRoutes, {
    database,
    authenticator,
    audit: auditWriter,
    snapshot: snapshotOf,
  });
  await app.register(consoleRoutes);
  const openapi = buildOpenApi(registry, VERSION);
  app.get('/openapi.json', async () => openapi);
  // The API reference works on an offline clinic network: no fonts or scripts from other hosts, none of
  // the reference UI vendor's own buttons (AI agent, MCP generator, deploy/share tools), our own title.
  // Loaded only when served: the reference UI is the heaviest import, and stdio never needs it.
  if (options.apiReference !== false)
    await app.register((await import('@scalar/fastify-api-reference')).default, {
      routePrefix: '/docs',
      configuration: {
        url: '/openapi.json',
        title: 'Ubuntu Patient Care API reference',
        metaData: { title: 'Ubuntu Patient Care API reference' },
        withDefaultFonts: false,
        showDeveloperTools: 'never',
        hideClientButton: true,
        agent: { disabled: true },
        mcp: { disabled: true },
        telemetry: false,
      },
    });

  return app;
}

function withStream(
  logger: ReturnType<typeof loggerOptions>,
  stream: NodeJS.WritableStream | undefined,
): ReturnType<typeof loggerOptions> {
  return stream && typeof logger === 'object' ? { ...logger, stream } : logger;
}

/**
 * Refuses to start when a tool's output has a field whose name says "sensitive" (`spouse_id_number`,
 * `home_address`) that the redaction map does not cover: such a field would reach every role unmasked.
 */
function assertRedactionCovers(module: Module): void {
  const problems = module.tools.flatMap((tool) => {
    const fields = uncoveredSensitiveFields(jsonSchemaOf(tool.output, 'output'), module.redactions);
    return fields.length > 0 ? [`${tool.name}: ${fields.join(', ')}`] : [];
  });
  if (problems.length > 0)
    throw new Error(
      'Sensitive output fields with no redaction kind (add them to src/security/field-redactions.ts or ' +
        `the module's redactions): ${problems.join('; ')}`,
    );
}
