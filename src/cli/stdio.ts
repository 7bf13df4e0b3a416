import { randomUUID } from 'node:crypto';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { buildApp } from '../app.js';
import type { Config } from '../config.js';
import type { Principal } from '../core/context.js';
import { isToolError } from '../core/errors.js';
import { ownerOf } from '../db/data-dir-lock.js';
import { type McpCaller, mcpCaller } from '../mcp/caller.js';
import { resolveJwtSecret } from '../security/jwt-secret.js';
import { JwtAuthenticator, tokenSettings } from '../security/tokens.js';
import { relayStdioTo } from './stdio-relay.js';

/**
 * `upc-mcp stdio`: the same MCP surface over stdin/stdout for a local desktop client, acting as the
 * identity in UPC_TOKEN (checked by the same authenticator as bearer tokens). stdout carries only
 * protocol messages, so every log line goes to stderr. Returns the process exit code.
 */
export async function runStdio(config: Config): Promise<number> {
  if (!config.UPC_TOKEN) {
    process.stderr.write(
      'upc-mcp stdio: UPC_TOKEN is not set. Create one with "upc-mcp token --sub <you> --role <role>" and ' +
        'put it in the MCP client configuration (see docs/MCP_CLIENTS.md).\n',
    );
    return 2;
  }
  let principal: Principal;
  try {
    principal = await new JwtAuthenticator(tokenSettings(config, resolveJwtSecret(config))).authenticate(
      config.UPC_TOKEN,
    );
  } catch (error) {
    const reason = isToolError(error) ? error.message : String(error);
    process.stderr.write(`upc-mcp stdio: UPC_TOKEN was refused: ${reason}\n`);
    return 1;
  }

  // From here on (the slow part of start-up) a client that gives up or dies ends this process.
  const startup = watchClientDuringStartup();
  // A server already owns the embedded database: work through it instead of opening the same files.
  const owner = config.DATABASE_URL ? undefined : ownerOf(config.DATA_DIR);
  if (owner?.url) {
    startup.handOver();
    return relayStdioTo(owner.url, config.UPC_TOKEN);
  }

  const app = await buildApp(config, { logStream: process.stderr, apiReference: false });
  startup.handOver();
  const caller: McpCaller = mcpCaller(principal, () => randomUUID(), 'stdio');
  const handle = serveStdio(() => app.parts.mcp.createServer(caller), {
    onerror: (error) => app.log.warn({ err: error }, 'mcp stdio error'),
  });
  process.stdin.resume(); // paused while we started; what the client sent meanwhile is read first
  app.log.info({ subject: principal.subject, role: principal.role }, 'serving MCP over stdio');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      await handle.close().catch(() => {});
      await app.close();
      resolve(0);
    };
    // The client closing our stdin ends the session (MCP stdio binding).
    process.stdin.once('end', () => void stop());
    process.stdin.once('close', () => void stop());
    process.once('SIGTERM', () => void stop());
    process.once('SIGINT', () => void stop());
  });
}

/**
 * From the first moment: a client that gives up while we start (closes stdin) or dies (we are orphaned)
 * ends this process, instead of leaving it holding the data directory. Whatever the client already sent
 * is kept and handed to the MCP transport once the server is ready.
 */
function watchClientDuringStartup(): { handOver(): void } {
  const early: Buffer[] = [];
  const keep = (chunk: Buffer) => early.push(chunk);
  const gone = () => process.exit(0);
  process.stdin.on('data', keep);
  process.stdin.once('end', gone);
  const parent = process.ppid;
  const orphaned = setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 500);
  orphaned.unref();
  return {
    handOver() {
      process.stdin.off('data', keep);
      process.stdin.off('end', gone);
      process.stdin.pause();
      if (early.length > 0) process.stdin.unshift(Buffer.concat(early));
    },
  };
}
