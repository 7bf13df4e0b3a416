import { z } from 'zod';
import { READ_ONLY } from '../../core/annotations.js';
import { ToolError } from '../../core/errors.js';
import { type AnyTool, defineTool } from '../../core/tool.js';
import { modalities } from './orthanc.api.js';
import type { OrthancClient } from './orthanc.client.js';
import { studyForCaller } from './pacs.access.js';
import { awaitJob } from './pacs.jobs.js';
import { studyUidInput } from './pacs.study.tools.js';

const destinationName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a destination name from pacs_list_destinations')
  .describe('Destination name from pacs_list_destinations');

export function sendTools(client: OrthancClient): AnyTool[] {
  const listDestinations = defineTool({
    name: 'pacs_list_destinations',
    title: 'DICOM destinations',
    description:
      'Lists the DICOM nodes (workstations, other PACS, modalities) the PACS is configured to send to, ' +
      'with their AE title, host and port. Use the name with pacs_send_study.',
    input: z.object({}),
    output: z.object({
      destinations: z.array(
        z.object({
          name: z.string(),
          aet: z.string(),
          host: z.string(),
          port: z.number().int(),
          manufacturer: z.string().optional(),
          allows_store: z.boolean(),
        }),
      ),
    }),
    permission: 'pacs:read',
    annotations: READ_ONLY,
    phi: false,
    examples: [{ description: 'Where can studies go?', parameters: {} }],
    async handler(_input, ctx) {
      const configured = await modalities(client, { signal: ctx.signal });
      return {
        destinations: Object.entries(configured)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([name, m]) => ({
            name,
            aet: m.AET,
            host: m.Host,
            port: m.Port,
            ...(m.Manufacturer ? { manufacturer: m.Manufacturer } : {}),
            // Orthanc < 1.8 has no AllowStore; C-STORE is then always allowed.
            allows_store: m.AllowStore ?? true,
          })),
      };
    },
  });

  const sendStudy = defineTool({
    name: 'pacs_send_study',
    title: 'Send a study to a DICOM destination',
    description:
      'Sends (DICOM C-STORE) a whole study from the PACS to a configured destination, e.g. a reporting ' +
      "workstation or another hospital's PACS. Needs confirmation. Reports how many instances were sent " +
      'and how many failed.',
    input: z.object({
      study_instance_uid: studyUidInput,
      destination: destinationName,
    }),
    output: z.object({
      study_instance_uid: z.string(),
      destination: z.string(),
      destination_aet: z.string(),
      status: z.enum(['completed', 'partial']),
      instances_sent: z.number().int(),
      instances_failed: z.number().int(),
      job_id: z.string(),
    }),
    permission: 'pacs:send',
    confirmation: true,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    phi: true,
    examples: [
      {
        description: 'To the reporting workstation',
        parameters: { study_instance_uid: '1.2.826.0.1.3680043.8.498.1', destination: 'WORKSTATION1' },
      },
    ],
    async describeAction(input, ctx) {
      const target = await destinationFor(input.destination, ctx);
      const study = await studyForCaller(client, input.study_instance_uid, ctx);
      const tags = study.MainDicomTags;
      const patient = study.PatientMainDicomTags;
      const name = (patient.PatientName ?? '').replace('^', ', ') || 'unnamed patient';
      const date = /^\d{8}$/.test(tags.StudyDate ?? '')
        ? ` of ${tags.StudyDate!.slice(0, 4)}-${tags.StudyDate!.slice(4, 6)}-${tags.StudyDate!.slice(6)}`
        : '';
      const description = tags.StudyDescription ? `"${tags.StudyDescription}"` : 'study';
      return (
        `Send ${name} (${patient.PatientID ?? 'no patient id'})'s ${description}${date} ` +
        `(${study.Series.length} series, accession ${tags.AccessionNumber || 'none'}) to ${input.destination} ` +
        `(AE ${target.AET} at ${target.Host}:${target.Port}). The destination keeps its own copy.`
      );
    },
    async handler(input, ctx) {
      const target = await destinationFor(input.destination, ctx);
      const study = await studyForCaller(client, input.study_instance_uid, ctx);
      // Permissive: one instance the destination refuses does not stop the rest; the job counts failures.
      const started = await client.postJson<{ ID: string }>(
        `/modalities/${encodeURIComponent(input.destination)}/store`,
        { Resources: [study.ID], Asynchronous: true, Permissive: true },
        { signal: ctx.signal },
      );
      const done = await awaitJob(client, started.ID, ctx, `Sending to ${input.destination}`);
      const total = Number(done.Content.InstancesCount ?? 0);
      const failed = Number(done.Content.FailedInstancesCount ?? 0);
      const where = `${input.destination} (AE ${target.AET} at ${target.Host}:${target.Port})`;
      if (done.State !== 'Success' || failed >= total) {
        throw new ToolError(
          'UPSTREAM_UNAVAILABLE',
          `The study was not delivered to ${where}: ${done.ErrorDetails || done.ErrorDescription}. ` +
            'Check that the destination is running and accepts our AE title.',
          {
            destination: input.destination,
            job_id: done.ID,
            instances_total: total,
            instances_failed: failed || total,
          },
        );
      }
      return {
        study_instance_uid: input.study_instance_uid,
        destination: input.destination,
        destination_aet: target.AET,
        status: failed > 0 ? ('partial' as const) : ('completed' as const),
        instances_sent: total - failed,
        instances_failed: failed,
        job_id: done.ID,
      };
    },
  });

  /** A configured destination by name (own property only), or NOT_FOUND naming the known ones. */
  async function destinationFor(name: string, ctx: { signal: AbortSignal }) {
    const configured = await modalities(client, { signal: ctx.signal });
    const target = Object.hasOwn(configured, name) ? configured[name] : undefined;
    if (!target) {
      throw new ToolError(
        'NOT_FOUND',
        `No DICOM destination named "${name}". Known: ${Object.keys(configured).join(', ') || 'none'}.`,
        { destination: name, known: Object.keys(configured) },
      );
    }
    return target;
  }

  return [listDestinations, sendStudy];
}
