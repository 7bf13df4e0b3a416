/**
 * The demo reference set: about a hundred real WHO ICD-10 codes a radiology practice meets, and a demo
 * tariff table whose items resolve the RIS demo procedure codes. Both are CSV files in the import formats
 * (src/modules/codes/demo/), loaded through the same importers, with `source` = 'demo' on every row.
 */
import { fileURLToPath } from 'node:url';
import type { CodesDb } from './codes.tables.js';
import { importIcd10 } from './icd10.import.js';
import { countIcd10 } from './icd10.store.js';
import { importTariffs } from './tariffs.import.js';
import { countTariffs } from './tariffs.store.js';

/** The tariff table the demo prices are in. */
export const DEMO_TARIFF_TABLE = 'demo';

/** The demo files, next to this module (the build copies them to dist/ with the migrations). */
export function demoFile(name: 'icd10-demo.csv' | 'tariffs-demo.csv'): string {
  return fileURLToPath(new URL(`./demo/${name}`, import.meta.url));
}

export interface DemoLoad {
  icd10: number;
  tariffItems: number;
}

/**
 * Loads the demo ICD-10 codes when the ICD-10 table is empty, and the demo tariff table when there are no
 * tariff items; a table that holds anything (an imported MIT, a practice's tariffs) is left alone. Safe to
 * run again and from several replicas at once (the importers upsert under a lock).
 */
export async function loadDemoWhenEmpty(db: CodesDb): Promise<DemoLoad> {
  const loaded: DemoLoad = { icd10: 0, tariffItems: 0 };
  if ((await countIcd10(db)).total === 0) {
    const report = await importIcd10(db, demoFile('icd10-demo.csv'), { source: 'demo' });
    if (!report.committed)
      throw new Error(`The demo ICD-10 file has errors: ${JSON.stringify(report.rejected)}`);
    loaded.icd10 = report.inserted;
  }
  if ((await countTariffs(db)).items === 0) {
    const report = await importTariffs(db, demoFile('tariffs-demo.csv'), {
      table: DEMO_TARIFF_TABLE,
      tableDescription: 'Demo tariff table (invented prices; not a published tariff)',
      source: 'demo',
    });
    if (!report.committed)
      throw new Error(`The demo tariff file has errors: ${JSON.stringify(report.rejected)}`);
    loaded.tariffItems = report.items.inserted;
  }
  return loaded;
}
