import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { errorBody, httpStatusOf, ToolError } from '../core/errors.js';

/**
 * Every error leaving the server has the one shape `{success:false, error:{error_code, message, request_id}}`,
 * including Fastify's own (bad JSON, body too large, unknown route). No stack trace ever reaches a client.
 */
export const errorsPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((error: FastifyError | ToolError, request, reply) => {
    const toolError = error instanceof ToolError ? error : fromFastifyError(error);
    if (toolError.code === 'INTERNAL') request.log.error({ err: error }, 'request failed');
    void reply
      .status(httpStatusOf(toolError.code))
      .send({ success: false, error: errorBody(toolError, request.id) });
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new ToolError(
      'NOT_FOUND',
      `No route ${request.method} ${request.url.split('?')[0]}. See /docs for the API.`,
    );
    void reply.status(404).send({ success: false, error: errorBody(error, request.id) });
  });
});

function fromFastifyError(error: FastifyError): ToolError {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new ToolError('PAYLOAD_TOO_LARGE', 'The request body is larger than this server accepts.');
  }
  if (error.validation) {
    return new ToolError('INVALID_PARAMETERS', `Invalid request: ${error.message}`);
  }
  if (error.statusCode === 415) {
    return new ToolError('INVALID_PARAMETERS', 'Send the body as application/json.');
  }
  if (error.statusCode === 429) return new ToolError('RATE_LIMITED', error.message);
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new ToolError('INVALID_PARAMETERS', error.message);
  }
  return new ToolError(
    'INTERNAL',
    'An unexpected error occurred. The problem has been logged with the request id.',
  );
}
