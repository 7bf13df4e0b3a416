import type { Config } from '../../config.js';
import type { Module, ModuleDeps } from '../../core/module.js';
import type { HealthResult } from '../../core/module-manager.js';
import { BackendResilience } from '../../core/resilience.js';
import type { BackendTelemetry } from '../../core/telemetry.js';
import type { OrthancSystem } from './orthanc.api.js';
import { OrthancClient } from './orthanc.client.js';
import { pacsResourceParts, pacsResources } from './pacs.resources.js';
import { pacsTools } from './pacs.tools.js';

const HEALTH_TIMEOUT_MS = 2_000;

/** How people and metrics name Orthanc in errors (`The PACS (Orthanc) did not answer ...`). */
const ORTHANC = { backend: 'orthanc', label: 'The PACS (Orthanc)' } as const;

function orthancSettings(config: Config) {
  return {
    timeoutMs: config.ORTHANC_TIMEOUT_MS,
    retries: config.ORTHANC_RETRIES,
    breakerThreshold: config.ORTHANC_BREAKER_THRESHOLD,
    breakerCooldownMs: config.ORTHANC_BREAKER_COOLDOWN_MS,
    maxConcurrency: config.ORTHANC_MAX_CONCURRENCY,
  };
}

function orthancClient(config: Config, resilience: BackendResilience): OrthancClient {
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

/** The Orthanc client for this configuration, with the resilience policy around every call (CLI, tests). */
export function orthancFromConfig(config: Config, telemetry?: BackendTelemetry): OrthancClient {
  return orthancClient(config, new BackendResilience(ORTHANC, orthancSettings(config), telemetry));
}

/**
 * The PACS module: one Orthanc client with the resilience policy (timeout, retry, breaker, bulkhead) from
 * ORTHANC_* settings; searches cached for PACS_CACHE_TTL_MS. Health goes through the same breaker as the
 * tools: while it is open /health answers at once (no waiting on a dead Orthanc), and after the cool-down
 * the health check itself is the trial call that closes it again, so the module recovers without a
 * restart even when no tool is being called.
 */
export function pacsModule(deps: ModuleDeps): Module {
  const client = orthancClient(deps.config, deps.resilience(ORTHANC, orthancSettings(deps.config)));
  return {
    name: 'pacs',
    tools: pacsTools(client, deps.caching(deps.config.PACS_CACHE_TTL_MS)),
    resources: pacsResources,
    resourceParts: pacsResourceParts,
    // DICOM tags returned with include_tags go through the same field-level redaction as other fields.
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
  };
}
