/** Following an Orthanc job (anonymisation, C-STORE) to its end, with progress and cancellation. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallContext } from '../../core/context.js';
import { ToolError } from '../../core/errors.js';
import { cancelJob, job, type OrthancJob } from './orthanc.api.js';
import type { OrthancClient } from './orthanc.client.js';

/** Long enough for a large study; the job keeps running in Orthanc if we stop waiting. */
const MAX_WAIT_MS = 15 * 60_000;

/**
 * Polls `/jobs/{id}` (fast at first, then every 500 ms) until Success or Failure, passing Orthanc's
 * percentage to `ctx.reportProgress`. A cancelled call cancels the Orthanc job too.
 */
export async function awaitJob(
  client: OrthancClient,
  jobId: string,
  ctx: CallContext,
  describe: string,
): Promise<OrthancJob> {
  const deadline = Date.now() + MAX_WAIT_MS;
  let delay = 50;
  let lastProgress = -1;
  for (;;) {
    if (ctx.signal.aborted) {
      await cancelJob(client, jobId).catch(() => {});
      throw new ToolError('CONFLICT', `${describe} was cancelled; the PACS job ${jobId} was cancelled too.`);
    }
    const state = await job(client, jobId, { signal: ctx.signal });
    if (state.Progress !== lastProgress) {
      lastProgress = state.Progress;
      ctx.reportProgress({ progress: state.Progress, total: 100, message: `${describe}: ${state.State}` });
    }
    if (state.State === 'Success' || state.State === 'Failure') return state;
    if (Date.now() > deadline) {
      throw new ToolError(
        'UPSTREAM_TIMEOUT',
        `${describe} is still running in the PACS after ${MAX_WAIT_MS / 60_000} minutes (job ${jobId}).`,
        { job_id: jobId },
      );
    }
    await sleep(delay, undefined, { signal: ctx.signal }).catch(() => {});
    delay = Math.min(500, delay * 2);
  }
}
