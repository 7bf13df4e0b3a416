import type { FastifyReply } from 'fastify';

/**
 * Aborts when the client goes away before the answer is written: the response closing unfinished. (The
 * request's own 'close' event is no use here: Node emits it as soon as the body has been read.)
 */
export function abortOnClientGone(reply: FastifyReply): AbortSignal {
  const abort = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  return abort.signal;
}
