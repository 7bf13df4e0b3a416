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
  return tools.map((tool) => {
    if (rules.cached.includes(tool.name)) return cachedRead(tool, rules.namespace, caching);
    if (rules.invalidatedBy.includes(tool.name))
      return invalidatingWrite(tool, rules.namespace, caching.cache);
    return tool;
  });
}

function cachedRead(tool: AnyTool, namespace: string, caching: ToolCaching): AnyTool {
  if (!tool.annotations.readOnlyHint) throw new Error(`Only read-only tools may be cached (${tool.name})`);
  const telemetry = caching.telemetry ?? NO_CACHE_TELEMETRY;
  return {
    ...tool,
    async handler(input: unknown, ctx: CallContext): Promise<unknown> {
      const key = toolCacheKey(tool.name, input, await ctx.patientScope());
      const found = await caching.cache.get(namespace, key);
      telemetry.observeCache(tool.name, found.status);
      if (found.status === 'hit') {
        const answer = found.value as CachedAnswer;
        ctx.touchPatients(...answer.patients);
        return answer.result;
      }
      const patients: string[] = [];
      const result = await tool.handler(input, recordingPatients(ctx, patients));
      if (found.status === 'miss') {
        await caching.cache.set(found.slot, { result, patients } satisfies CachedAnswer, caching.ttlMs);
      }
      return result;
    },
  };
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
    touchPatients: (...ids) => {
      patients.push(...ids);
      ctx.touchPatients(...ids);
    },
  };
}
