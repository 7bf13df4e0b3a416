#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { buildApp } from './app.js';
import { AUDIT_HELP, auditCommand } from './cli/audit.js';
import { BACKUP_HELP, backupCommand, restoreCommand } from './cli/backup.js';
import { printDoctor, runDoctor } from './cli/doctor.js';
import { IMPORT_HELP, importCommand } from './cli/import.js';
import { bold, dim, fail, ok } from './cli/output.js';
import { demoDataOnStart, printDemoCredentials, seedDemo, seedDemoDatabase } from './cli/seed-demo.js';
import { TRANSFER_HELP, transferCommand } from './cli/transfer.js';
import { USERS_HELP, usersCommand } from './cli/users.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { ROLES, type Role } from './core/context.js';
import { DataDirBusyError, setOwnerCommand } from './db/data-dir-lock.js';
import { classifyDatabaseError } from './db/database.errors.js';
import { openDatabase } from './db/database.js';
import { migrate, migrationLabel } from './db/migrate.js';
import { resolveJwtSecret } from './security/jwt-secret.js';
import { issueToken, tokenSettings } from './security/tokens.js';
import { PRODUCT_NAME, VERSION } from './version.js';

const HELP: Record<string, string> = {
  main: `${PRODUCT_NAME} ${VERSION}: MCP server for a radiology practice (PACS, RIS, reporting, billing)

Usage: upc-mcp <command> [options]

Commands:
  serve       start the HTTP server (default)
  stdio       serve MCP over stdin/stdout for a desktop client (Claude Desktop, VS Code)
  migrate     apply database migrations and exit
  token       print a signed access token (development and operations helper)
  seed-demo   load synthetic demo data
  import      load reference data from CSV: ICD-10 MIT, tariff tables, physicians, procedures, rooms
  doctor      check every backend and say how to fix what is wrong
  audit       verify, export or archive the audit log
  users       add, list, disable or reset built-in users
  backup      snapshot the embedded database (online, while the server runs)
  restore     bring a snapshot back into an empty data directory
  transfer    move the embedded database into PostgreSQL

Run "upc-mcp <command> --help" for a command's options. Settings come from the environment; see .env.example.`,
  serve: `Usage: upc-mcp serve

Starts the server on HOST:PORT (default 127.0.0.1:8000). Without DATABASE_URL it uses embedded PGlite in
DATA_DIR (default ./data). Stops gracefully on SIGTERM/SIGINT: in-flight calls finish, pools close.`,
  stdio: `Usage: upc-mcp stdio

Serves the MCP tools, resources and prompts over stdin/stdout for a local MCP client, acting as the
identity in UPC_TOKEN (required; get one with "upc-mcp token"). Logs go to stderr. Exits when the client
closes stdin. Client set-up: docs/MCP_CLIENTS.md.`,
  migrate: `Usage: upc-mcp migrate

Applies pending SQL migrations (core's and every module's) to the configured database, then exits.`,
  token: `Usage: upc-mcp token --sub <id> --role <role> [--patients P1,P2] [--ttl 3600]

Prints a JWT signed with the configured HS256 key (JWT_SECRET_KEY, or the development key in DATA_DIR).
Roles: ${ROLES.join(', ')}.`,
  'seed-demo': `Usage: upc-mcp seed-demo [--pacs N] [--seed S]

Loads synthetic demo data: --pacs N uploads N synthetic patients' studies to the Orthanc at ORTHANC_URL.`,
  audit: AUDIT_HELP,
  backup: BACKUP_HELP,
  restore: BACKUP_HELP,
  transfer: TRANSFER_HELP,
  users: USERS_HELP,
  import: IMPORT_HELP,
  doctor: `Usage: upc-mcp doctor

Checks the database, Orthanc, Redis and the identity provider from the current settings. Exits 1 if a
required backend is not usable.`,
};

async function main(argv: string[]): Promise<number> {
  const command = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'serve';
  const rest = argv[0] === command ? argv.slice(1) : argv;
  if (!(command in HELP) || command === 'main') {
    console.error(fail(`Unknown command "${command}".`));
    console.error(HELP.main);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(argv[0] === command ? HELP[command] : HELP.main);
    return 0;
  }
  const config = readConfig();
  if (!config) return 1;
  setOwnerCommand(command);
  try {
    return await run(command, config, rest);
  } catch (error) {
    if (error instanceof DataDirBusyError) {
      console.error(fail(`${error.message} ${whatToDo(command, error)}`));
      return 3;
    }
    throw error;
  }
}

/** The one line a second process prints when the embedded database already has an owner. */
function whatToDo(command: string, error: DataDirBusyError): string {
  const stop = `stop it first (kill ${error.owner.pid}), or point this command at another DATA_DIR`;
  switch (command) {
    case 'seed-demo':
      return `Load demo data before starting the server, or ${stop}.`;
    case 'users':
      return `Manage users while the server is stopped, or ${stop}.`;
    case 'import':
      return `Import while the embedded server is stopped (or use PostgreSQL), or ${stop}.`;
    case 'serve':
    case 'stdio':
      return `One server per data directory: use the running one${error.owner.url ? ` at ${error.owner.url}` : ''}, or ${stop}.`;
    default:
      return `${stop[0]!.toUpperCase()}${stop.slice(1)}.`;
  }
}

async function run(command: string, config: Config, rest: string[]): Promise<number> {
  switch (command) {
    case 'serve':
      return serve(config);
    case 'stdio':
      return (await import('./cli/stdio.js')).runStdio(config);
    case 'migrate':
      return runMigrate(config);
    case 'token':
      return printToken(config, rest);
    case 'seed-demo':
      return seedDemoCommand(config, rest);
    case 'audit':
      return auditCommand(config, rest);
    case 'users':
      return usersCommand(config, rest);
    case 'import':
      return importCommand(config, rest);
    case 'backup':
      return backupCommand(config, rest);
    case 'restore':
      return restoreCommand(config, rest);
    case 'transfer':
      return transferCommand(config, rest);
    case 'doctor':
      return printDoctor(await runDoctor(config)) ? 0 : 1;
    default:
      return 2;
  }
}

function readConfig(): Config | undefined {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(fail(error.message));
      return undefined;
    }
    throw error;
  }
}

async function serve(config: Config): Promise<number> {
  const app = await buildApp(config);
  installSafetyNet(app);
  if (demoDataOnStart(config)) {
    const credentials = await seedDemoDatabase(app.parts.database, config, {
      pacsPatients: 0,
      seed: 2026,
      clock: app.parts.clock,
    });
    printDemoCredentials(credentials, config);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight calls');
    const force = setTimeout(() => {
      app.log.error('shutdown grace period over; exiting');
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS);
    force.unref();
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  const address = await app.listen({ host: config.HOST, port: config.PORT });
  // Another upc-mcp process on this data directory (stdio, backup) works through this address.
  app.parts.database.dataDirLock?.setUrl(address);
  const engine = app.parts.database.kind === 'pglite' ? `embedded PGlite (${config.DATA_DIR})` : 'PostgreSQL';
  if (process.stdout.isTTY) {
    console.log(
      [
        '',
        bold(`${PRODUCT_NAME} ${VERSION} is listening on ${address}`),
        `  health     ${address}/health`,
        `  API docs   ${address}/docs`,
        `  database   ${engine}`,
        `  PACS       ${config.ORTHANC_URL}`,
        dim('  get a token: npm run upc-mcp -- token --sub me --role admin'),
        '',
      ].join('\n'),
    );
  }
  return new Promise<number>(() => {});
}

/**
 * The last line of defence: anything that escapes every handler is logged and counted. A lost database
 * connection is survivable (the pool opens new ones, the call already failed); anything else means a bug
 * left the process in an unknown state, so it exits and the supervisor starts a clean one.
 */
function installSafetyNet(app: Awaited<ReturnType<typeof buildApp>>): void {
  const caught = (kind: 'exception' | 'rejection') => (error: unknown) => {
    app.parts.metrics.escapedErrors.inc({ kind });
    const survivable = classifyDatabaseError(error) === 'unavailable';
    app.log.error({ err: error, kind, survivable }, 'error escaped every handler');
    if (!survivable) process.exit(1);
  };
  process.on('uncaughtException', caught('exception'));
  process.on('unhandledRejection', caught('rejection'));
}

async function runMigrate(config: Config): Promise<number> {
  const database = await openDatabase(config);
  try {
    const report = await migrate(database, {
      onApplied: (m) => console.log(ok(`applied ${migrationLabel(m)}`)),
    });
    console.log(
      report.applied.length === 0
        ? ok(`database is up to date (${report.alreadyApplied} migrations)`)
        : ok(`${report.applied.length} migration(s) applied`),
    );
    return 0;
  } finally {
    await database.close();
  }
}

async function printToken(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      sub: { type: 'string' },
      role: { type: 'string' },
      patients: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
    },
    strict: true,
  });
  const role = values.role as Role | undefined;
  const problems: string[] = [];
  if (!values.sub) problems.push('--sub is required (the user id the token stands for)');
  if (!role) problems.push(`--role is required: one of ${ROLES.join(', ')}`);
  else if (!ROLES.includes(role))
    problems.push(`--role "${role}" is not a role: use one of ${ROLES.join(', ')}`);
  if (problems.length > 0 || !values.sub || !role) {
    console.error(fail(problems.join('; ')));
    return 2;
  }
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 30 * 24 * 3600) {
    console.error(fail('--ttl must be a whole number of seconds between 1 and 2592000'));
    return 2;
  }
  const patients = values.patients
    ?.split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const token = await issueToken(tokenSettings(config, resolveJwtSecret(config)), {
    subject: values.sub,
    role,
    ttlSeconds: ttl,
    ...(patients ? { patients } : {}),
  });
  console.log(token);
  return 0;
}

async function seedDemoCommand(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { pacs: { type: 'string', default: '0' }, seed: { type: 'string', default: '2026' } },
    strict: true,
  });
  return seedDemo(config, { pacsPatients: Number(values.pacs), seed: Number(values.seed) });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(fail((error as Error).message));
    process.exitCode = 1;
  },
);
