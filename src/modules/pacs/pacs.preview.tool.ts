import { z } from 'zod';
import { READ_ONLY } from '../../core/annotations.js';
import { isToolError, ToolError } from '../../core/errors.js';
import { type AnyTool, defineTool } from '../../core/tool.js';
import { instancesOfSeries, type OrthancInstance, type OrthancSeries, seriesOfStudy } from './orthanc.api.js';
import type { OrthancClient } from './orthanc.client.js';
import { studyForCaller } from './pacs.access.js';
import { imageInfo } from './pacs.images.js';
import { byInstanceNumber, bySeriesNumber, instanceFields } from './pacs.mapping.js';
import { studyUidInput } from './pacs.study.tools.js';

export const DEFAULT_PREVIEW_IMAGES = 4;
export const MAX_PREVIEW_IMAGES = 8;
/** One rendered image larger than this is left out rather than sent. */
const MAX_IMAGE_BYTES = 1_500_000;
/** All images of one answer together. */
const MAX_TOTAL_BYTES = 6_000_000;

/** Series that hold no pixels: structured reports, key-object notes, presentation states, ... */
const NON_IMAGE_MODALITIES = new Set(['SR', 'KO', 'PR', 'DOC', 'REG', 'RTSTRUCT', 'RTPLAN', 'RTDOSE', 'SEG']);

/**
 * The images MCP clients show: the MCP layer turns each `images[]` entry into an image content block
 * (`{type: 'image', data: data_base64, mimeType: mime_type}`).
 */
export const previewImageSchema = z.object({
  mime_type: z.enum(['image/png', 'image/jpeg']),
  data_base64: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  size_bytes: z.number().int(),
  series_instance_uid: z.string(),
  sop_instance_uid: z.string(),
  instance_number: z.number().int().optional(),
});

/** Middle slice first, then outwards: the most representative images of a series come first. */
function middleOut<T>(items: readonly T[]): T[] {
  const middle = Math.floor((items.length - 1) / 2);
  return items
    .map((item, index) => ({ item, distance: Math.abs(index - middle) }))
    .sort((a, b) => a.distance - b.distance)
    .map(({ item }) => item);
}

/** Round-robin over series so that a multi-series study shows one image of each before a second of any. */
function pick(perSeries: { series: OrthancSeries; instances: OrthancInstance[] }[], count: number) {
  const queues = perSeries.map(({ series, instances }) => ({ series, queue: middleOut(instances) }));
  const picked: { series: OrthancSeries; instance: OrthancInstance }[] = [];
  while (picked.length < count && queues.some((q) => q.queue.length > 0)) {
    for (const q of queues) {
      const instance = q.queue.shift();
      if (instance && picked.length < count) picked.push({ series: q.series, instance });
    }
  }
  return picked;
}

export function previewTool(client: OrthancClient): AnyTool {
  return defineTool({
    name: 'pacs_get_study_preview',
    title: 'Study preview images',
    description:
      'Shows a few rendered images of a study (rendered by the PACS with its default window), so you can ' +
      `look at it. Returns up to ${DEFAULT_PREVIEW_IMAGES} images by default (at most ${MAX_PREVIEW_IMAGES}), ` +
      'the middle slice of each series first, scaled to at most max_dimension pixels. Previews are for ' +
      'orientation, not diagnosis.',
    input: z.object({
      study_instance_uid: studyUidInput,
      series_instance_uid: studyUidInput.optional().describe('Only this series (SeriesInstanceUID)'),
      max_images: z.number().int().min(1).max(MAX_PREVIEW_IMAGES).default(DEFAULT_PREVIEW_IMAGES),
      format: z.enum(['jpeg', 'png']).default('jpeg').describe('jpeg is smaller; png is lossless'),
      max_dimension: z.number().int().min(64).max(1024).default(512).describe('Longest side in pixels'),
    }),
    output: z.object({
      study_instance_uid: z.string(),
      images: z.array(previewImageSchema),
      /** Image-bearing instances in the selected series. */
      total_instances: z.number().int(),
      skipped: z.array(z.object({ sop_instance_uid: z.string(), reason: z.string() })).optional(),
    }),
    permission: 'pacs:view',
    annotations: READ_ONLY,
    phi: true,
    examples: [
      { description: 'Four images', parameters: { study_instance_uid: '1.2.826.0.1.3680043.8.498.1' } },
      {
        description: 'Two lossless images',
        parameters: { study_instance_uid: '1.2.826.0.1.3680043.8.498.1', max_images: 2, format: 'png' },
      },
    ],
    async handler(input, ctx) {
      const study = await studyForCaller(client, input.study_instance_uid, ctx);
      const options = { signal: ctx.signal };
      const allSeries = (await seriesOfStudy(client, study.ID, options))
        .filter((s) => !NON_IMAGE_MODALITIES.has(s.MainDicomTags.Modality ?? ''))
        .filter(
          (s) =>
            !input.series_instance_uid || s.MainDicomTags.SeriesInstanceUID === input.series_instance_uid,
        )
        .sort(bySeriesNumber);
      if (input.series_instance_uid && allSeries.length === 0) {
        throw new ToolError(
          'NOT_FOUND',
          `Study ${input.study_instance_uid} has no image series ${input.series_instance_uid}. ` +
            'List its series with pacs_retrieve_study.',
          { series_instance_uid: input.series_instance_uid },
        );
      }
      const perSeries = await Promise.all(
        allSeries.map(async (series) => ({
          series,
          instances: (await instancesOfSeries(client, series.ID, options)).sort(byInstanceNumber),
        })),
      );
      const accept = input.format === 'png' ? 'image/png' : 'image/jpeg';
      const images: z.input<typeof previewImageSchema>[] = [];
      const skipped: { sop_instance_uid: string; reason: string }[] = [];
      let totalBytes = 0;
      for (const { series, instance } of pick(perSeries, input.max_images)) {
        const ids = instanceFields(instance);
        try {
          const bytes = await render(client, instance.ID, accept, input.max_dimension, ctx.signal);
          const info = imageInfo(bytes);
          if (!info) throw new ToolError('INTERNAL', 'the PACS sent an image that is neither PNG nor JPEG');
          if (bytes.length > MAX_IMAGE_BYTES || totalBytes + bytes.length > MAX_TOTAL_BYTES) {
            skipped.push({
              sop_instance_uid: ids.sop_instance_uid,
              reason: 'image too large for one answer',
            });
            continue;
          }
          totalBytes += bytes.length;
          images.push({
            mime_type: info.mimeType,
            data_base64: bytes.toString('base64'),
            width: info.width,
            height: info.height,
            size_bytes: bytes.length,
            series_instance_uid: series.MainDicomTags.SeriesInstanceUID ?? '',
            ...ids,
          });
        } catch (error) {
          // One image Orthanc cannot render (unsupported compression, no pixels) must not sink the rest;
          // an unreachable PACS must.
          if (!isToolError(error) || error.code !== 'INVALID_PARAMETERS') throw error;
          skipped.push({ sop_instance_uid: ids.sop_instance_uid, reason: error.message });
        }
      }
      const result = {
        study_instance_uid: input.study_instance_uid,
        images,
        total_instances: perSeries.reduce((sum, s) => sum + s.instances.length, 0),
      };
      return skipped.length > 0 ? { ...result, skipped } : result;
    },
  });
}

/**
 * `/instances/{id}/rendered` (Orthanc ≥ 1.8, also 1.12) at native size; scaled down only when larger than
 * `maxDimension`, so small images are never blown up. JPEG quality 85 keeps an answer small.
 */
async function render(
  client: OrthancClient,
  instanceId: string,
  accept: string,
  maxDimension: number,
  signal: AbortSignal,
): Promise<Buffer> {
  const base = `/instances/${encodeURIComponent(instanceId)}/rendered`;
  const quality = accept === 'image/jpeg' ? '?quality=85' : '';
  const first = await client.send({ method: 'GET', path: `${base}${quality}`, accept, signal });
  const info = imageInfo(first.body);
  if (!info || (info.width <= maxDimension && info.height <= maxDimension)) return first.body;
  const sep = quality ? '&' : '?';
  const size = info.width >= info.height ? `width=${maxDimension}` : `height=${maxDimension}`;
  return (await client.send({ method: 'GET', path: `${base}${quality}${sep}${size}`, accept, signal })).body;
}
