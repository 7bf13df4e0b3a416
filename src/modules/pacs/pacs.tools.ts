import { type ToolCaching, withReadCache } from '../../core/cached-tools.js';
import type { AnyTool } from '../../core/tool.js';
import type { OrthancClient } from './orthanc.client.js';
import { anonymizeTool } from './pacs.anonymize.tool.js';
import { previewTool } from './pacs.preview.tool.js';
import { searchTools } from './pacs.search.tools.js';
import { sendTools } from './pacs.send.tools.js';
import { studyTools } from './pacs.study.tools.js';
import { uploadTool } from './pacs.upload.tool.js';

/**
 * Searches are what assistants repeat most (the same question rephrased, paging back and forth), and a
 * few seconds of staleness is harmless there; single-study reads stay live. The writes that add studies
 * to Orthanc through this server drop every cached search at once.
 */
export const PACS_CACHE_RULES = {
  namespace: 'pacs',
  cached: ['pacs_search_studies', 'pacs_search_patients'],
  invalidatedBy: ['pacs_upload_study', 'pacs_anonymize_study'],
} as const;

/** Every PACS tool, in catalogue order (ARCHITECTURE §5), with the read cache when one is given. */
export function pacsTools(client: OrthancClient, caching?: ToolCaching): AnyTool[] {
  const tools = [
    ...searchTools(client),
    ...studyTools(client),
    previewTool(client),
    uploadTool(client),
    anonymizeTool(client),
    ...sendTools(client),
  ];
  return withReadCache(tools, PACS_CACHE_RULES, caching);
}
