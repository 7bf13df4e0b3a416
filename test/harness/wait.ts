/**
 * Waiting on a condition instead of sleeping: a test asks "until this is true" with a deadline, so it is as
 * quick as the machine allows and still passes when both cores are busy.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  options: { what: string; timeoutMs?: number; intervalMs?: number },
): Promise<void> {
  const deadline = performance.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not there yet
    }
    if (performance.now() > deadline) {
      throw new Error(`Timed out after ${options.timeoutMs ?? 30_000} ms waiting for ${options.what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 25));
  }
}

/** Until a server started in another process answers GET /ready with 200. */
export function waitForReady(base: string, what = 'the server to be ready'): Promise<void> {
  return waitUntil(
    () =>
      fetch(`${base}/ready`).then(
        (r) => r.ok,
        () => false,
      ),
    { what, timeoutMs: 90_000, intervalMs: 100 },
  );
}
