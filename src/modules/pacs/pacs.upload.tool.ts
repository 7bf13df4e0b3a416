import { z } from 'zod';
import { isToolError, ToolError } from '../../core/errors.js';
import { inScope, type PatientScope } from '../../core/scope.js';
import { type AnyTool, defineTool } from '../../core/tool.js';
import type { StoredInstance } from './orthanc.api.js';
import type { OrthancClient } from './orthanc.client.js';
import { checkDicomFile, decodeBase64 } from './pacs.dicomfile.js';

export const MAX_UPLOAD_FILES = 100;

const fileResultSchema = z.object({
  index: z.number().int(),
  filename: z.string().optional(),
  status: z.enum(['stored', 'duplicate', 'failed']),
  sop_instance_uid: z.string().optional(),
  study_instance_uid: z.string().optional(),
  patient_id: z.string().optional(),
  error: z.string().optional(),
});

type FileResult = z.input<typeof fileResultSchema>;

export function uploadTool(client: OrthancClient): AnyTool {
  return defineTool({
    name: 'pacs_upload_study',
    title: 'Upload DICOM files',
    description:
      'Stores DICOM Part-10 files (base64) in the PACS, e.g. a study brought in on CD. Each file is ' +
      'checked and reported on its own: stored, duplicate (already in the PACS) or failed with the reason; ' +
      `a bad file never stops the others. Up to ${MAX_UPLOAD_FILES} files per call.`,
    input: z.object({
      files: z
        .array(
          z.object({
            filename: z.string().max(255).optional(),
            data_base64: z.string().min(1).describe('The whole .dcm file, base64'),
          }),
        )
        .min(1)
        .max(MAX_UPLOAD_FILES),
    }),
    output: z.object({
      stored: z.number().int(),
      duplicates: z.number().int(),
      failed: z.number().int(),
      files: z.array(fileResultSchema),
      studies: z.array(z.object({ study_instance_uid: z.string(), patient_id: z.string() })),
    }),
    permission: 'pacs:upload',
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    phi: true,
    async handler(input, ctx) {
      const scope = await ctx.patientScope();
      const results: FileResult[] = [];
      const studies = new Map<string, string>();
      const total = input.files.length;
      for (const [index, file] of input.files.entries()) {
        // Between files, never mid-file: a cancelled upload leaves whole instances, never half of one.
        if (ctx.signal.aborted) {
          throw new ToolError(
            'CONFLICT',
            `Upload cancelled after ${index} of ${total} files; those stay stored.`,
            {
              processed: index,
            },
          );
        }
        const base: FileResult = {
          index,
          status: 'failed',
          ...(file.filename ? { filename: file.filename } : {}),
        };
        const result = await storeOne(client, file.data_base64, base, scope, ctx.signal, index, total);
        results.push(result);
        if (result.status !== 'failed' && result.study_instance_uid && result.patient_id !== undefined) {
          studies.set(result.study_instance_uid, result.patient_id);
        }
        ctx.reportProgress({
          progress: index + 1,
          total,
          message: `${index + 1}/${total}: ${result.status}`,
        });
      }
      ctx.touchPatients(...new Set(studies.values()));
      const count = (status: FileResult['status']) => results.filter((r) => r.status === status).length;
      return {
        stored: count('stored'),
        duplicates: count('duplicate'),
        failed: count('failed'),
        files: results,
        studies: [...studies].map(([study_instance_uid, patient_id]) => ({ study_instance_uid, patient_id })),
      };
    },
  });
}

async function storeOne(
  client: OrthancClient,
  data: string,
  base: FileResult,
  scope: PatientScope,
  signal: AbortSignal,
  index: number,
  total: number,
): Promise<FileResult> {
  const bytes = decodeBase64(data);
  if (!bytes) return { ...base, error: 'data_base64 is not valid base64' };
  const check = await checkDicomFile(bytes);
  if (!check.ok) return { ...base, error: check.error };
  const identity = {
    sop_instance_uid: check.identity.sopInstanceUid,
    study_instance_uid: check.identity.studyInstanceUid,
    patient_id: check.identity.patientId,
  };
  if (!inScope(scope, check.identity.patientId)) {
    return { ...base, ...identity, error: 'this patient is outside your scope' };
  }
  try {
    // Not retried: a retry after a lost answer would report "duplicate" for a file this call stored.
    const reply = await client.send({
      method: 'POST',
      path: '/instances',
      body: bytes,
      contentType: 'application/dicom',
      signal,
    });
    const stored = JSON.parse(reply.body.toString('utf8')) as StoredInstance;
    return { ...base, ...identity, status: stored.Status === 'AlreadyStored' ? 'duplicate' : 'stored' };
  } catch (error) {
    // Orthanc refusing this file (400) is this file's problem; an unreachable PACS ends the call.
    if (isToolError(error) && error.code === 'INVALID_PARAMETERS') {
      return { ...base, ...identity, error: error.message };
    }
    if (isToolError(error)) {
      throw new ToolError(error.code, `${error.message} (stopped at file ${index + 1} of ${total}).`, {
        ...error.details,
        processed: index,
      });
    }
    throw error;
  }
}
