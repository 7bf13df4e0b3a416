import type { Module, ModuleDeps } from '../../core/module.js';
import type { HealthResult } from '../../core/module-manager.js';
import { type CodesApi, type CodesApiDeps, createCodesApi } from './codes.api.js';
import { loadDemoWhenEmpty } from './codes.demo.js';
import { codesDb } from './codes.tables.js';
import { codesTools } from './codes.tools.js';
import { countIcd10 } from './icd10.store.js';
import { countTariffs } from './tariffs.store.js';

/**
 * Reference codes shared by RIS, reporting and billing: ICD-10 (SA MIT) and tariff items with prices per
 * tariff table (schema `codes`, migration 0014). Other modules read them through `deps.use<CodesApi>('codes')`.
 *
 * The demo set loads at start into empty tables (not in production, not with DEMO_DATA=0): then a fresh
 * server can validate codes and price the RIS demo procedures at once, and an imported MIT or tariff table
 * is never touched by it.
 */
export function codesModule(deps: ModuleDeps): Module {
  const db = codesDb(deps.database);
  const apiDeps: CodesApiDeps = {
    db,
    timeZone: () => deps.practiceZone.zone(),
    now: () => deps.clock.now(),
  };
  const api: CodesApi = createCodesApi(apiDeps);
  const demoAllowed = deps.config.NODE_ENV !== 'production' && deps.config.DEMO_DATA !== false;
  return {
    name: 'codes',
    tools: codesTools({ ...apiDeps, api }),
    api,
    async initialize() {
      if (!demoAllowed) return;
      const loaded = await loadDemoWhenEmpty(db);
      if (loaded.icd10 > 0 || loaded.tariffItems > 0) {
        deps.log.info(
          { icd10: loaded.icd10, tariff_items: loaded.tariffItems },
          'codes: demo reference set loaded into empty tables (source "demo")',
        );
      }
    },
    async healthCheck(): Promise<HealthResult> {
      try {
        const [icd10, tariffs] = await Promise.all([countIcd10(db), countTariffs(db)]);
        const details: Record<string, unknown> = {
          icd10_codes: icd10.total,
          icd10_demo_codes: icd10.demo,
          tariff_items: tariffs.items,
          tariff_demo_items: tariffs.demoItems,
          tariff_tables: tariffs.tables,
          tariff_prices: tariffs.prices,
        };
        if (icd10.total === 0)
          details.note =
            'No ICD-10 codes loaded: run "upc-mcp import icd10 FILE" with the SA MIT (docs/CODES.md).';
        return { ok: true, details };
      } catch (error) {
        return { ok: false, error: `Codes tables unreachable: ${(error as Error).message}` };
      }
    },
  };
}
