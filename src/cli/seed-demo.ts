import type { Config } from '../config.js';
import { openDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { risDb } from '../modules/ris/ris.adapter.js';
import { seedRisDemo } from '../modules/ris/ris.demo.js';
import { ok } from './output.js';

export interface SeedDemoOptions {
  pacsPatients: number;
  seed: number;
}

/** Loads synthetic demo data into the configured backends. */
export async function seedDemo(config: Config, options: SeedDemoOptions): Promise<number> {
  const database = await openDatabase(config);
  try {
    await migrate(database);
    // RIS: physicians, patients, orders and a week of appointments from today (deterministic per seed).
    const ris = await seedRisDemo(risDb(database), { seed: options.seed });
    console.log(
      ok(
        `RIS demo (seed ${options.seed}): ${ris.physicians} physicians, ${ris.patients} new patients, ` +
          `${ris.orders} new orders, ${ris.appointments} new appointments`,
      ),
    );
  } finally {
    await database.close();
  }
  return 0;
}
