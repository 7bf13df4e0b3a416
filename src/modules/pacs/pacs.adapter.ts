import type { Adapter, HealthResult } from '../../core/adapter.js';
import type { AnyTool } from '../../core/tool.js';
import type { OrthancClient } from './orthanc.client.js';

interface OrthancSystem {
  Version: string;
  Name: string;
  DicomAet: string;
  ApiVersion?: number;
}

export function pacsAdapter(client: OrthancClient, tools: AnyTool[] = []): Adapter {
  return {
    name: 'pacs',
    async initialize() {
      await client.getJson<OrthancSystem>('/system');
    },
    async healthCheck(): Promise<HealthResult> {
      try {
        const system = await client.getJson<OrthancSystem>('/system', AbortSignal.timeout(2_000));
        return { ok: true, details: { orthanc_version: system.Version, aet: system.DicomAet } };
      } catch (error) {
        return { ok: false, error: (error as Error).message };
      }
    },
    async shutdown() {
      await client.close();
    },
    tools: () => tools,
  };
}
