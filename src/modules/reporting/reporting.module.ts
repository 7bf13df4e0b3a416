import { sql } from 'kysely';
import type { Module, ModuleDeps } from '../../core/module.js';
import type { HealthResult } from '../../core/module-manager.js';
import type { CodesApi } from '../codes/codes.api.js';
import type { RisApi } from '../ris/ris.api.js';
import type { ReportingDeps } from './reporting.access.js';
import { countOpenCriticals } from './reporting.critical.store.js';
import { reportingCriticalTools } from './reporting.critical.tools.js';
import { reportingLifecycleTools } from './reporting.lifecycle.tools.js';
import { reportingPrompts } from './reporting.prompts.js';
import { reportingResources } from './reporting.resources.js';
import { reportingDb } from './reporting.tables.js';
import { loadDemoTemplatesWhenEmpty, templateTools } from './reporting.templates.tools.js';
import { reportingTools } from './reporting.tools.js';
import { reportingWorklistTools } from './reporting.worklists.tools.js';

/**
 * The reporting module (docs/REPORTING.md): one report per accession number, every change a version,
 * signing by a radiologist with a hash of the exact content, amendments as new signed versions, in schema
 * `reporting` (migrations in ./migrations). Signing publishes `reporting.report.signed`; the RIS reacts.
 */
export function reportingModule({
  database,
  clock,
  practiceZone,
  events,
  use,
  telemetry,
  config,
  log,
}: ModuleDeps): Module {
  const db = reportingDb(database);
  const deps: ReportingDeps = {
    db,
    codes: use<CodesApi>('codes'),
    ris: use<RisApi>('ris'),
    events,
    now: () => clock.now(),
    timeZone: () => practiceZone.zone(),
    format: (instant) => practiceZone.format(instant),
  };
  telemetry.watchGauge({
    name: 'upc_reporting_open_critical_results',
    help: 'Reports flagging a critical finding whose communication is not recorded yet; alert when one stays open',
    read: () => countOpenCriticals(db),
  });
  return {
    name: 'reporting',
    tools: [
      ...reportingTools(deps),
      ...reportingLifecycleTools(deps),
      ...reportingCriticalTools(deps),
      ...reportingWorklistTools(deps),
      ...templateTools(deps),
    ],
    resources: reportingResources,
    prompts: reportingPrompts,
    // The demo templates (./demo, MRRT) load into an empty template table, as the codes module's demo set.
    async initialize() {
      if (config.NODE_ENV === 'production' || config.DEMO_DATA === false) return;
      const loaded = await loadDemoTemplatesWhenEmpty(db);
      if (loaded > 0) log.info({ templates: loaded }, 'reporting: demo templates loaded into an empty table');
    },
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
