import { type CacheTelemetry, NO_CACHE_TELEMETRY, type ReadCache, toolCacheKey } from './cache.js';
import type { CallContext } from './context.js';
import type { AnyTool } from './tool.js';

/** A module's cache settings, as the app wires them; absent (or ttlMs 0) means "no caching". */
export interface ToolCaching {
  cache: ReadCache;
  ttlMs: number;
  telemetry?: CacheTelemetry;
}

export interface CacheRules {
  /** Invalidated together; e.g. `pacs`. */
  namespace: string;
  /** Read tools whose answers may be served from the cache. */
  cached: readonly string[];
  /** Write tools that invalidate the namespace when they finish (successfully or not). */
  invalidatedBy: readonly string[];
}

/** A handler's answer plus the patients it touched, so a hit is audited exactly like the original call. */
interface CachedAnswer {
  result: unknown;
  patients: string[];
}

/** A backend load in flight after a miss, and the signal of the call that started it. */
interface Load {
  answer: Promise<CachedAnswer>;
  signal: AbortSignal;
}

/**
 * Applies a module's cache rules to its tools. Done at tool level (not in the pipeline) because only the
 * module knows which answers tolerate staleness and which writes change them. Output validation, redaction
 * and audit still run in the pipeline for hits, exactly as for misses.
 */
export function withReadCache(
  tools: AnyTool[],
  rules: CacheRules,
  caching: ToolCaching | undefined,
): AnyTool[] {
  if (!caching || caching.ttlMs <= 0) return tools;
  const names = new Set(tools.map((t) => t.name));
  for (const name of [...rules.cached, ...rules.invalidatedBy]) {
    if (!names.has(name)) throw new Error(`Cache rules for "${rules.namespace}" name unknown tool ${name}`);
  }
  // One table of loads per wiring (per app): two servers in one process never share a backend call.
  const loads = new Map<string, Load>();
  return tools.map((tool) => {
    if (rules.cached.includes(tool.name)) return cachedRead(tool, rules.namespace, caching, loads);
    if (rules.invalidatedBy.includes(tool.name))
      return invalidatingWrite(tool, rules.namespace, caching.cache);
    return tool;
  });
}

/**
 * Concurrent misses for one answer share one backend load (single flight): when an entry expires under
 * load, a hundred callers do not become a hundred Orthanc searches that overflow its bulkhead. Sharing is
 * per cache slot, so only callers with the same key (tool, scope, parameters) and the same namespace
 * generation wait for one load; a caller that arrives after an invalidation starts a fresh one.
 */
function cachedRead(
  tool: AnyTool,
  namespace: string,
  caching: ToolCaching,
  loads: Map<string, Load>,
): AnyTool {
  if (!tool.annotations.readOnlyHint) throw new Error(`Only read-only tools may be cached (${tool.name})`);
  const telemetry = caching.telemetry ?? NO_CACHE_TELEMETRY;
  const load = async (input: unknown, ctx: CallContext): Promise<CachedAnswer> => {
    const patients: string[] = [];
    const result = await tool.handler(input, recordingPatients(ctx, patients));
    return { result, patients };
  };
  const replay = (answer: CachedAnswer, ctx: CallContext) => {
    ctx.touchPatients(...answer.patients);
    return answer.result;
  };
  return {
    ...tool,
    async handler(input: unknown, ctx: CallContext): Promise<unknown> {
      const key = toolCacheKey(tool.name, input, await ctx.patientScope());
      const found = await caching.cache.get(namespace, key);
      if (found.status === 'hit') {
        telemetry.observeCache(tool.name, 'hit');
        return replay(found.value as CachedAnswer, ctx);
      }
      if (found.status === 'unavailable') {
        telemetry.observeCache(tool.name, 'unavailable');
        return (await load(input, ctx)).result;
      }
      const flight = `${found.slot.generation}\u0000${key}`;
      const running = loads.get(flight);
      if (running && !running.signal.aborted) {
        try {
          const answer = await untilAborted(running.answer, ctx.signal);
          // Served without a backend call of its own: counted as a hit.
          telemetry.observeCache(tool.name, 'hit');
          return replay(answer, ctx);
        } catch (error) {
          // The caller that started the load went away and took it with it: load for ourselves below.
          if (!running.signal.aborted || ctx.signal.aborted) throw error;
        }
      }
      telemetry.observeCache(tool.name, 'miss');
      const mine: Load = { answer: load(input, ctx), signal: ctx.signal };
      loads.set(flight, mine);
      try {
        const answer = await mine.answer;
        await caching.cache.set(found.slot, answer satisfies CachedAnswer, caching.ttlMs);
        return answer.result;
      } finally {
        if (loads.get(flight) === mine) loads.delete(flight);
      }
    },
  };
}

/** Waits for `promise`, but gives up as soon as this caller's own request is cancelled. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Invalidates even after a failure: an upload that stopped half-way has still stored some files. */
function invalidatingWrite(tool: AnyTool, namespace: string, cache: ReadCache): AnyTool {
  return {
    ...tool,
    async handler(input: unknown, ctx: CallContext): Promise<unknown> {
      try {
        return await tool.handler(input, ctx);
      } finally {
        await cache.invalidate(namespace);
      }
    },
  };
}

/** The same context, also collecting the patients the handler reports (for replaying on a hit). */
function recordingPatients(ctx: CallContext, patients: string[]): CallContext {
  return {
    requestId: ctx.requestId,
    principal: ctx.principal,
    door: ctx.door,
    get log() {
      return ctx.log;
    },
    signal: ctx.signal,
    reportProgress: (update) => ctx.reportProgress(update),
    patientScope: () => ctx.patientScope(),
    invoke: (tool, parameters) => ctx.invoke(tool, parameters),
    mayView: (kind) => ctx.mayView(kind),
    touchPatients: (...ids) => {
      patients.push(...ids);
      ctx.touchPatients(...ids);
    },
  };
}
