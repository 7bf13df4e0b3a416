import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

// The console loads only its own files and talks only to this server.
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'";

/** The practice console: a few static files read once at start and served with a strict CSP. */
export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  const files = new Map(
    Object.entries(FILES).map(([name, type]) => [
      name,
      { type, body: readFileSync(`${CONSOLE_DIR}${name}`) },
    ]),
  );
  app.get('/', async (_request, reply) => reply.redirect('/console/'));
  app.get('/console', async (_request, reply) => reply.redirect('/console/'));
  // Browsers ask for a favicon at the root whatever the page says.
  const favicon = files.get('favicon.svg')!;
  for (const path of ['/favicon.svg', '/favicon.ico'])
    app.get(path, async (_request, reply) =>
      reply.type(favicon.type).header('cache-control', 'max-age=86400').send(favicon.body),
    );
  app.get<{ Params: { file?: string } }>('/console/:file', async (request, reply) => {
    const file = files.get(request.params.file || 'index.html');
    if (!file) return reply.callNotFound();
    return reply
      .type(file.type)
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('cache-control', 'no-cache')
      .send(file.body);
  });
}
