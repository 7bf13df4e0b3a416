import type { AnyTool } from '../../core/tool.js';
import type { OrthancClient } from './orthanc.client.js';
import { anonymizeTool } from './pacs.anonymize.tool.js';
import { previewTool } from './pacs.preview.tool.js';
import { searchTools } from './pacs.search.tools.js';
import { sendTools } from './pacs.send.tools.js';
import { studyTools } from './pacs.study.tools.js';
import { uploadTool } from './pacs.upload.tool.js';

/** Every PACS tool, in catalogue order (ARCHITECTURE §5). */
export function pacsTools(client: OrthancClient): AnyTool[] {
  return [
    ...searchTools(client),
    ...studyTools(client),
    previewTool(client),
    uploadTool(client),
    anonymizeTool(client),
    ...sendTools(client),
  ];
}
