import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../core/context.js';
import { doorOutcome, recordDoorEvent, requestFacts } from '../core/door-events.js';
import { errorBody, httpStatusOf, isToolError, ToolError } from '../core/errors.js';
import { type AuditSink, validate } from '../core/pipeline.js';
import type { LoginService } from '../security/login.js';

const loginBody = z.object({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
});

export interface AuthRoutesOptions {
  login: LoginService;
  audit: AuditSink;
}

/** POST /auth/token: password sign-in for built-in users; every attempt is audited. */
export async function authRoutes(app: FastifyInstance, { login, audit }: AuthRoutesOptions): Promise<void> {
  app.post('/auth/token', async (request, reply) => {
    const started = performance.now();
    let principal: Principal | undefined;
    let failure: ToolError | undefined;
    let username = '';
    try {
      const body = validate(loginBody, request.body);
      username = body.username;
      const { token, user } = await login.login(body.username, body.password, request.ip);
      principal = { subject: user.username, role: user.role };
      return token;
    } catch (error) {
      failure = isToolError(error) ? error : new ToolError('INTERNAL', 'Sign-in failed unexpectedly.');
      if (!isToolError(error)) request.log.error({ err: error }, 'sign-in failed');
      const retryAfter = failure.details?.retry_after_seconds;
      if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
      if (failure.code === 'UNAUTHENTICATED') void reply.header('www-authenticate', 'Bearer realm="upc-mcp"');
      return reply
        .status(httpStatusOf(failure.code))
        .send({ success: false, error: errorBody(failure, request.id) });
    } finally {
      await recordDoorEvent(audit, request.log, {
        ...requestFacts(request),
        door: 'rest',
        tool: 'auth_login',
        parameters: { username },
        ...(principal ? { principal } : {}),
        outcome: doorOutcome(failure?.code),
        ...(failure ? { errorCode: failure.code } : {}),
        durationMs: performance.now() - started,
      });
    }
  });
}
