import type { Config } from '../../config.js';
import type { Adapter, HealthResult } from '../../core/adapter.js';
import type { BackendTelemetry } from '../../core/telemetry.js';
import type { AnyTool } from '../../core/tool.js';
import type { OrthancSystem } from './orthanc.api.js';
import { OrthancClient } from './orthanc.client.js';
import { OrthancResilience } from './orthanc.resilience.js';
import { pacsTools } from './pacs.tools.js';

const HEALTH_TIMEOUT_MS = 2_000;

/** The Orthanc client for this configuration, with the module's resilience policy around every call. */
export function orthancFromConfig(config: Config, telemetry?: BackendTelemetry): OrthancClient {
  const resilience = new OrthancResilience(
    {
      timeoutMs: config.ORTHANC_TIMEOUT_MS,
      retries: config.ORTHANC_RETRIES,
      breakerThreshold: config.ORTHANC_BREAKER_THRESHOLD,
      breakerCooldownMs: config.ORTHANC_BREAKER_COOLDOWN_MS,
      maxConcurrency: config.ORTHANC_MAX_CONCURRENCY,
    },
    telemetry,
  );
  return new OrthancClient(
    {
      url: config.ORTHANC_URL,
      username: config.ORTHANC_USERNAME,
      password: config.ORTHANC_PASSWORD,
      timeoutMs: config.ORTHANC_TIMEOUT_MS,
      connections: config.ORTHANC_MAX_CONCURRENCY,
    },
    resilience,
  );
}

/**
 * The PACS module. Health goes through the same breaker as the tools: while it is open /health answers at
 * once (no waiting on a dead Orthanc), and after the cool-down the health check itself is the trial call
 * that closes it again, so the module recovers without a restart even when no tool is being called.
 */
export function pacsAdapter(client: OrthancClient, tools: AnyTool[] = pacsTools(client)): Adapter {
  return {
    name: 'pacs',
    // DICOM tags returned with include_tags go through the same field-level redaction as RIS fields.
    redactions: {
      OtherPatientIDs: 'national_id',
      OtherPatientIDsSequence: 'national_id',
      PatientAddress: 'contact_details',
      PatientTelephoneNumbers: 'contact_details',
      PatientMotherBirthName: 'contact_details',
      MilitaryRank: 'contact_details',
    },
    async initialize() {
      await client.getJson<OrthancSystem>('/system');
    },
    async healthCheck(): Promise<HealthResult> {
      try {
        const system = await client.getJson<OrthancSystem>('/system', { timeoutMs: HEALTH_TIMEOUT_MS });
        return {
          ok: true,
          details: {
            orthanc_version: system.Version,
            aet: system.DicomAet,
            breaker: client.breakerState ?? 'closed',
          },
        };
      } catch (error) {
        return {
          ok: false,
          error: (error as Error).message,
          details: { breaker: client.breakerState ?? 'closed' },
        };
      }
    },
    async shutdown() {
      await client.close();
    },
    tools: () => tools,
  };
}
