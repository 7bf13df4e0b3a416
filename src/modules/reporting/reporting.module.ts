import { sql } from 'kysely';
import type { Module, ModuleDeps } from '../../core/module.js';
import type { HealthResult } from '../../core/module-manager.js';
import type { CodesApi } from '../codes/codes.api.js';
import type { ReportingDeps } from './reporting.access.js';
import { reportingPrompts } from './reporting.prompts.js';
import { reportingDb } from './reporting.tables.js';
import { reportingTools } from './reporting.tools.js';

/**
 * The reporting module (docs/REPORTING.md): one report per accession number, every change a version,
 * signing by a radiologist with a hash of the exact content, amendments as new signed versions, in schema
 * `reporting` (migrations in ./migrations). Signing publishes `reporting.report.signed`; the RIS reacts.
 */
export function reportingModule({ database, clock, practiceZone, events, use }: ModuleDeps): Module {
  const db = reportingDb(database);
  const deps: ReportingDeps = {
    db,
    codes: use<CodesApi>('codes'),
    events,
    now: () => clock.now(),
    timeZone: () => practiceZone.zone(),
    format: (instant) => practiceZone.format(instant),
  };
  return {
    name: 'reporting',
    tools: reportingTools(deps),
    prompts: reportingPrompts,
    // How the study was done and what it was compared with can hold clinical text ("contrast reaction",
    // "the known mass on the prior CT"); an amendment's reason can too ("wrong side dictated").
    redactions: { technique: 'clinical_text', comparison: 'clinical_text', reason: 'clinical_text' },
    async healthCheck(): Promise<HealthResult> {
      try {
        await sql`SELECT 1 FROM reporting.reports LIMIT 1`.execute(db);
        return { ok: true };
      } catch (error) {
        return { ok: false, error: `reporting tables unreachable: ${(error as Error).message}` };
      }
    },
  };
}
