import { ERROR_CODES } from '../core/errors.js';
import type { ToolRegistry } from '../core/registry.js';

const errorSchema = {
  type: 'object',
  required: ['success', 'error'],
  properties: {
    success: { const: false },
    error: {
      type: 'object',
      required: ['error_code', 'message', 'request_id'],
      properties: {
        error_code: { type: 'string', enum: [...ERROR_CODES] },
        message: { type: 'string' },
        request_id: { type: 'string' },
        details: { type: 'object' },
      },
    },
    execution_time_ms: { type: 'number' },
  },
};

const errorResponses = {
  '400': {
    description: 'INVALID_PARAMETERS: details.fields names each bad field',
    content: json({ $ref: '#/components/schemas/Error' }),
  },
  '401': { description: 'UNAUTHENTICATED', content: json({ $ref: '#/components/schemas/Error' }) },
  '403': { description: 'FORBIDDEN or OUT_OF_SCOPE', content: json({ $ref: '#/components/schemas/Error' }) },
  '404': {
    description: 'TOOL_NOT_FOUND or NOT_FOUND',
    content: json({ $ref: '#/components/schemas/Error' }),
  },
  '409': {
    description: 'CONFLICT or CONFIRMATION_REQUIRED',
    content: json({ $ref: '#/components/schemas/Error' }),
  },
  '413': { description: 'PAYLOAD_TOO_LARGE', content: json({ $ref: '#/components/schemas/Error' }) },
  '429': { description: 'RATE_LIMITED', content: json({ $ref: '#/components/schemas/Error' }) },
  '503': { description: 'UPSTREAM_UNAVAILABLE', content: json({ $ref: '#/components/schemas/Error' }) },
  '504': { description: 'UPSTREAM_TIMEOUT', content: json({ $ref: '#/components/schemas/Error' }) },
};

function json(schema: Record<string, unknown>) {
  return { 'application/json': { schema } };
}

/** OpenAPI 3.1, generated from the registry's zod-derived JSON Schemas: it cannot drift from the tools. */
export function buildOpenApi(registry: ToolRegistry, version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {
    '/health': {
      get: {
        tags: ['operations'],
        summary: 'Health of the server and each module',
        security: [],
        responses: { '200': { description: 'ok or degraded' } },
      },
    },
    '/ready': {
      get: {
        tags: ['operations'],
        summary: 'Ready to take traffic',
        security: [],
        responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } },
      },
    },
    '/auth/token': {
      post: {
        tags: ['sign-in'],
        summary: 'Sign in as a built-in user and get a bearer token',
        description:
          'Password sign-in for users created with `upc-mcp users add` (or the demo users). Send the token as ' +
          '`Authorization: Bearer <access_token>` on every other call. Wrong username, wrong password and a ' +
          'locked account get the same answer; repeated failures are slowed down (Retry-After).',
        security: [],
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            required: ['username', 'password'],
            properties: {
              username: { type: 'string', minLength: 1, maxLength: 64, examples: ['demo.receptionist'] },
              password: { type: 'string', minLength: 1, maxLength: 1024, format: 'password' },
            },
          }),
        },
        responses: {
          '200': {
            description: 'signed in',
            content: json({
              type: 'object',
              required: ['access_token', 'token_type', 'expires_in'],
              properties: {
                access_token: { type: 'string', description: 'a signed JWT' },
                token_type: { const: 'bearer' },
                expires_in: { type: 'integer', description: 'seconds', examples: [3600] },
              },
            }),
          },
          '400': errorResponses['400'],
          '401': {
            description: 'UNAUTHENTICATED: wrong username or password',
            content: json({ $ref: '#/components/schemas/Error' }),
          },
          '429': errorResponses['429'],
        },
      },
    },
    '/mcp/v1/tools': {
      get: {
        tags: ['tools'],
        summary: 'List tools with their JSON Schemas',
        security: [],
        responses: { '200': { description: 'the tool catalog' } },
      },
    },
    '/mcp/v1/invoke': {
      post: {
        tags: ['tools'],
        summary: 'Invoke any tool by name',
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            required: ['tool'],
            properties: {
              tool: { type: 'string', enum: registry.names() },
              parameters: { type: 'object' },
              context: {
                type: 'object',
                additionalProperties: false,
                description:
                  'Door arguments, never tool parameters. A tool that needs confirmation first answers 409 ' +
                  'CONFIRMATION_REQUIRED with `details.summary` (what will happen, to show the person) and ' +
                  '`details.confirmation_token`; after the person agrees, send the same request again with ' +
                  '`context.confirmation_token`.',
                properties: {
                  idempotency_key: {
                    type: 'string',
                    description:
                      'Retrying a write with the same key returns the first result instead of running it again.',
                  },
                  confirmation_token: {
                    type: 'string',
                    description:
                      'From an earlier CONFIRMATION_REQUIRED answer (`details.confirmation_token`).',
                  },
                },
              },
            },
          }),
        },
        responses: {
          '200': { description: 'success', content: json({ type: 'object' }) },
          ...errorResponses,
        },
      },
    },
  };
  // The chat agent (src/llm, docs/AGENT.md): the model acts as the signed-in user through the pipeline.
  paths['/mcp/v1/chat'] = {
    post: {
      tags: ['chat'],
      summary: 'Ask the practice assistant (a language model using the tools with your rights)',
      description:
        'Tools that need confirmation are not run: they come back in `pending_confirmations` with the ' +
        'readable `summary`; confirm one with POST /mcp/v1/chat/confirm. 503 when no model is configured.',
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          required: ['message'],
          additionalProperties: false,
          properties: {
            message: { type: 'string', minLength: 1, maxLength: 5000 },
            session_id: { type: 'string', format: 'uuid' },
          },
        }),
      },
      responses: {
        '200': { description: 'the answer', content: json({ type: 'object' }) },
        ...errorResponses,
      },
    },
  };
  paths['/mcp/v1/chat/confirm'] = {
    post: {
      tags: ['chat'],
      summary: 'Confirm a pending action of a chat session; the session then continues',
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          required: ['session_id', 'confirmation_token'],
          additionalProperties: false,
          properties: {
            session_id: { type: 'string', format: 'uuid' },
            confirmation_token: { type: 'string' },
          },
        }),
      },
      responses: {
        '200': { description: 'the answer', content: json({ type: 'object' }) },
        ...errorResponses,
      },
    },
  };
  paths['/mcp/v1/chat/sessions/{id}'] = {
    delete: {
      tags: ['chat'],
      summary: 'Delete one of your chat sessions',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
      responses: { '200': { description: 'deleted' }, ...errorResponses },
    },
  };
  for (const { descriptor } of registry.list()) {
    paths[`/mcp/v1/tools/${descriptor.name}/invoke`] = {
      post: {
        tags: [descriptor.module],
        operationId: descriptor.name,
        summary: descriptor.title,
        description:
          `${descriptor.description}\n\nPermission: \`${descriptor.permission}\`` +
          (descriptor.confirmation
            ? '. Requires confirmation: the first call answers 409 CONFIRMATION_REQUIRED with `details.summary` ' +
              'and `details.confirmation_token`; send the same request again with the header ' +
              '`X-Confirmation-Token` once the person agrees.'
            : '.'),
        parameters: [
          { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } },
          ...(descriptor.confirmation
            ? [{ name: 'X-Confirmation-Token', in: 'header', required: false, schema: { type: 'string' } }]
            : []),
        ],
        requestBody: { required: true, content: json(descriptor.input_schema) },
        responses: {
          '200': {
            description: 'success',
            content: json({
              type: 'object',
              required: ['success', 'result', 'execution_time_ms', 'request_id'],
              properties: {
                success: { const: true },
                result: descriptor.output_schema,
                execution_time_ms: { type: 'number' },
                request_id: { type: 'string' },
              },
            }),
          },
          ...errorResponses,
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Ubuntu Patient Care MCP Server',
      version,
      description:
        'REST door to the practice tools. The same tools are served over MCP at /mcp. Authenticate with a bearer JWT.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: errorSchema },
    },
    paths,
  };
}
