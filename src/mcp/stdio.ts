import { randomUUID } from 'node:crypto';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { buildApp } from '../app.js';
import type { Config } from '../config.js';
import type { Principal } from '../core/context.js';
import { isToolError } from '../core/errors.js';
import { resolveJwtSecret } from '../security/jwt-secret.js';
import { JwtAuthenticator, tokenSettings } from '../security/tokens.js';
import type { McpCaller } from './caller.js';

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

  const app = await buildApp(config, { logStream: process.stderr });
  const caller: McpCaller = { principal, nextRequestId: () => randomUUID(), client: 'stdio' };
  const handle = serveStdio(() => app.parts.mcp.createServer(caller), {
    onerror: (error) => app.log.warn({ err: error }, 'mcp stdio error'),
  });
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
