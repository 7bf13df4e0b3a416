import { sql } from 'kysely';
import { loadConfig } from '../../src/config.js';
import { addDays, localToInstant } from '../../src/core/practice-time.js';
import { openDatabase } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { type RisDemoReport, seedRisDemo } from '../../src/modules/ris/ris.demo.js';
import type { RisDb } from '../../src/modules/ris/ris.tables.js';
import { risDb } from '../../src/modules/ris/ris.tables.js';
import { progress, progressDone } from './report.js';

export const RIS_START_DATE = '2025-01-06';
export const RIS_TZ = 'Africa/Johannesburg';

export interface RisLoad {
  report: RisDemoReport;
  seconds: number;
}

/**
 * The RIS demo generator with every room filled back to back for `days` days from 2025-01-06 (730 days
 * ≈ 103,000 appointments, orders and 20,000 patients), then ANALYZE. Used by bench/ris-worklist.ts (in
 * process) and bench/ris-load.ts (before the server process starts).
 */
export async function loadRisAppointments(db: RisDb, days: number): Promise<RisLoad> {
  const started = performance.now();
  const timer = setInterval(
    () =>
      progress(
        `  loading RIS demo data (${days} days, rooms full): ${((performance.now() - started) / 1000).toFixed(0)} s…`,
      ),
    2_000,
  );
  try {
    const report = await seedRisDemo(db, {
      seed: 2026,
      patients: 20_000,
      startDate: RIS_START_DATE,
      days,
      fill: 1,
      now: localToInstant(addDays(RIS_START_DATE, Math.floor(days / 2)), 12 * 60, RIS_TZ),
    });
    await sql`ANALYZE`.execute(db);
    const seconds = (performance.now() - started) / 1000;
    progressDone(
      `  loaded ${report.appointments} appointments, ${report.orders} orders, ${report.patients} patients in ${seconds.toFixed(1)} s`,
    );
    return { report, seconds };
  } finally {
    clearInterval(timer);
  }
}

/** Migrates the database at `url` and loads the appointments, with its own short-lived connection pool. */
export async function loadRisDatabase(url: string, days: number): Promise<RisLoad> {
  const database = await openDatabase(loadConfig({ DATABASE_URL: url, DATABASE_POOL_SIZE: '4' }));
  try {
    await migrate(database);
    return await loadRisAppointments(risDb(database), days);
  } finally {
    await database.close();
  }
}
