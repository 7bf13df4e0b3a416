import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import scalar from '@scalar/fastify-api-reference';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Config } from './config.js';
import { AdapterManager } from './core/adapter.js';
import { ConfirmationGate } from './core/confirmation.js';
import { IdempotencyStore } from './core/idempotency.js';
import { InvocationPipeline } from './core/pipeline.js';
import { ToolRegistry } from './core/registry.js';
import { DEFAULT_RESOURCE_PROVIDERS, ResourceCatalog } from './core/resources.js';
import { PatientScopeResolver } from './core/scope.js';
import { databaseAdapter } from './db/database.adapter.js';
import { type Database, openDatabase } from './db/database.js';
import { migrate, migrationLabel } from './db/migrate.js';
import { mcpAuthenticator } from './mcp/identity.js';
import { createMcpSurface, type McpSurface, mcpRoutes } from './mcp/index.js';
import { adminAdapter } from './modules/admin/admin.adapter.js';
import { adminTools } from './modules/admin/admin.tools.js';
import { OrthancClient } from './modules/pacs/orthanc.client.js';
import { pacsAdapter } from './modules/pacs/pacs.adapter.js';
import { healthRoutes } from './observability/health.routes.js';
import { loggerOptions, requestIdFor } from './observability/logging.js';
import { errorsPlugin } from './rest/errors.plugin.js';
import { buildOpenApi } from './rest/openapi.js';
import { toolRoutes } from './rest/tools.routes.js';
import { resolveJwtSecret } from './security/jwt-secret.js';
import { Policy } from './security/policy.js';
import { JwtAuthenticator, tokenSettings } from './security/tokens.js';
import { VERSION } from './version.js';

export interface AppParts {
  config: Config;
  scope: PatientScopeResolver;
  database: Database;
  registry: ToolRegistry;
  pipeline: InvocationPipeline;
  manager: AdapterManager;
  policy: Policy;
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
}

/**
 * Builds the whole server without listening: database and migrations, modules, the tool registry, the
 * invocation pipeline and the HTTP doors. `main.ts` listens; tests call `inject()` or listen on port 0.
 */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const startedAt = new Date();
  const app = Fastify({
    logger: withStream(loggerOptions(config), options.logStream),
    genReqId: requestIdFor,
    logController: new LogController({ requestIdLogLabel: 'request_id' }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  const ownsDatabase = !options.database;
  const database = options.database ?? (await openDatabase(config));
  try {
    await migrate(database, {
      onApplied: (m) => app.log.info({ migration: migrationLabel(m) }, 'migration applied'),
    });
  } catch (error) {
    if (ownsDatabase) await database.close();
    throw error;
  }

  const registry = new ToolRegistry();
  // Modules that know which patients a restricted caller may see (e.g. RIS referrals) add a source here.
  const scope = new PatientScopeResolver();
  const manager = new AdapterManager(app.log);
  const orthanc = new OrthancClient({
    url: config.ORTHANC_URL,
    username: config.ORTHANC_USERNAME,
    password: config.ORTHANC_PASSWORD,
    timeoutMs: config.ORTHANC_TIMEOUT_MS,
  });
  manager.add(databaseAdapter(database));
  manager.add(pacsAdapter(orthanc));
  manager.add(
    adminAdapter(
      adminTools({
        version: VERSION,
        startedAt,
        health: () => manager.health(),
        toolCount: () => registry.names().length,
      }),
    ),
  );
  for (const adapter of manager.adapters) {
    for (const tool of adapter.tools()) registry.register(tool, adapter.name);
  }
  await manager.initializeAll();

  const secret = resolveJwtSecret(config);
  const authenticator = new JwtAuthenticator(tokenSettings(config, secret));
  const policy = Policy.fromFile();
  const pipeline = new InvocationPipeline(
    registry,
    {
      authenticator,
      authorizer: policy,
      scope,
      confirmations: new ConfirmationGate(database.db, secret),
      idempotency: new IdempotencyStore(database.db),
    },
    app.log,
  );
  // --- MCP door (issue 3): resources catalog and the surface /mcp and `upc-mcp stdio` serve. ---
  const resources = new ResourceCatalog();
  for (const provider of DEFAULT_RESOURCE_PROVIDERS) resources.register(provider);
  const mcp = createMcpSurface({
    config,
    registry,
    pipeline,
    policy,
    resources,
    secret,
    version: VERSION,
    log: app.log,
  });
  // --- end MCP door ---
  app.decorate('parts', { config, scope, database, registry, pipeline, manager, policy, resources, mcp });

  let shuttingDown = false;
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  app.addHook('preClose', async () => {
    shuttingDown = true;
  });
  app.addHook('onClose', async () => {
    await manager.shutdownAll();
    if (ownsDatabase) await database.close();
  });

  await app.register(errorsPlugin);
  await app.register(helmet, {
    // The API reference page needs inline scripts and styles; everything else is JSON.
    contentSecurityPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  await app.register(cors, {
    origin: config.CORS_ORIGINS.length > 0 ? config.CORS_ORIGINS : false,
    exposedHeaders: ['x-request-id', 'retry-after', 'www-authenticate'],
  });
  await app.register(healthRoutes, { manager, version: VERSION, isShuttingDown: () => shuttingDown });
  await app.register(toolRoutes, { registry, pipeline });
  // MCP door (issue 3): /mcp (Streamable HTTP) and /.well-known/oauth-protected-resource.
  await app.register(mcpRoutes, {
    config,
    surface: mcp,
    authenticator: mcpAuthenticator(authenticator, config.UPC_INSECURE_NO_AUTH === true),
  });

  const openapi = buildOpenApi(registry, VERSION);
  app.get('/openapi.json', async () => openapi);
  await app.register(scalar, {
    routePrefix: '/docs',
    configuration: { url: '/openapi.json', title: 'UPC MCP API' },
  });

  return app;
}

function withStream(
  logger: ReturnType<typeof loggerOptions>,
  stream: NodeJS.WritableStream | undefined,
): ReturnType<typeof loggerOptions> {
  return stream && typeof logger === 'object' ? { ...logger, stream } : logger;
}
