/** When a failed delivery is tried again, and what of its error is kept. */

export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
  /** In [0, 1); `Math.random` in production, fixed in tests. */
  random: () => number;
}

/**
 * Exponential backoff with "equal jitter": after attempt n the nominal delay is base·2^(n-1), capped at
 * max, and the actual delay is uniformly between half of it and all of it. Replicas retrying the same
 * broken dependency spread out instead of hitting it together, and a delay never drops below half.
 */
export function retryDelayMs(attempt: number, settings: BackoffSettings): number {
  const nominal = Math.min(settings.maxMs, settings.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(nominal / 2 + (settings.random() * nominal) / 2);
}

const MAX_ERROR_LENGTH = 200;

/**
 * What of a handler's error is stored (`last_error`) and logged: its kind and code (`ToolError:
 * UPSTREAM_UNAVAILABLE`, `Error: ECONNREFUSED`), never its message, which may quote a patient's name or an
 * identifier. A handler that wants a failure to be diagnosable throws an error with a code.
 */
export function errorSummary(error: unknown): string {
  if (!(error instanceof Error)) return `non-Error thrown (${typeof error})`;
  const code = (error as { code?: unknown }).code;
  const summary =
    typeof code === 'string' || typeof code === 'number' ? `${error.name}: ${code}` : error.name;
  return summary.slice(0, MAX_ERROR_LENGTH);
}
