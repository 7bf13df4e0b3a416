import type { Config } from '../config.js';
import { type Clock, clockFor } from '../core/clock.js';
import { minutesToClock } from '../core/practice-time.js';
import type { Database } from '../db/database.js';
import { openDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { dicomDate, dicomPatientName, dicomTime, physicianDicomName } from '../demo/practice-plan.js';
import { pacsDemoStudies, seedPacsDemo } from '../modules/pacs/pacs.demo.js';
import { type DemoStudy, seedRisDemo } from '../modules/ris/ris.demo.js';
import { risDb } from '../modules/ris/ris.tables.js';
import { type DemoCredential, seedDemoUsers } from '../security/demo-users.js';
import { securityDb } from '../security/users.store.js';
import { dim, fail, ok } from './output.js';

export interface SeedDemoOptions {
  pacsPatients: number;
  seed: number;
  /** The product clock: the demo week is planned from its today (the nearest open days). */
  clock: Clock;
}

/** Demo data loads on start when asked (DEMO_DATA=1) or by default on the embedded development database. */
export function demoDataOnStart(config: Config): boolean {
  if (config.NODE_ENV === 'production') return false;
  return config.DEMO_DATA ?? (!config.DATABASE_URL && config.NODE_ENV === 'development');
}

/**
 * The PACS demo's studies as the RIS demo takes them: the same plan (src/demo/practice-plan.ts), so both
 * systems hold the same patients and accession numbers, each with one procedure, indication, codes and day.
 */
export function pacsStudiesForRis(options: Pick<SeedDemoOptions, 'seed' | 'pacsPatients'>): DemoStudy[] {
  if (options.pacsPatients === 0) return [];
  return pacsDemoStudies({ seed: options.seed, patients: options.pacsPatients }).flatMap(
    ({ patient, studies }) =>
      studies.map((study) => ({
        patient_id: patient.patientId,
        patient_name: dicomPatientName(patient),
        birth_date: dicomDate(patient.birthDate),
        sex: patient.sex,
        accession_number: study.accessionNumber,
        modality: study.procedure.modality,
        study_date: dicomDate(study.date),
        study_time: dicomTime(study.startMinute),
        study_description: study.procedure.description,
        procedure_code: study.procedure.code,
        referring_physician_name: physicianDicomName(study.physician),
        clinical_indication: study.indication.text,
        icd10_codes: study.indication.codes,
        priority: study.priority,
        ordered_at: `${study.orderedDate}T${minutesToClock(study.orderedMinute)}`,
      })),
  );
}

/** Loads the database part of the demo (users, RIS) into an open database; safe to run again. */
export async function seedDemoDatabase(
  database: Database,
  config: Config,
  options: SeedDemoOptions,
  print: (line: string) => void = (line) => console.log(line),
): Promise<DemoCredential[]> {
  // The demo referring doctor signs in as the RIS demo physician it stands for, so its scope is not empty.
  const credentials = await seedDemoUsers(securityDb(database.db), config.DATA_DIR, {
    referring_doctor: 'dr.naidoo',
  });
  const studies = pacsStudiesForRis(options);
  // RIS: physicians, patients, orders and a week of appointments from today (deterministic per seed).
  const ris = await seedRisDemo(risDb(database), {
    seed: options.seed,
    now: options.clock.now(),
    ...(studies.length > 0 ? { studies } : {}),
  });
  print(
    ok(
      `RIS demo (seed ${options.seed}): ${ris.physicians} physicians, ${ris.patients} new patients, ` +
        `${ris.orders} new orders, ${ris.appointments} new appointments`,
    ),
  );
  return credentials;
}

export function printDemoCredentials(credentials: DemoCredential[], config: Config): void {
  const dataDir = config.DATA_DIR;
  if (credentials.length === 0) return;
  console.log(ok(`demo users created (passwords also in ${dataDir}/demo-credentials.json):`));
  for (const c of credentials) console.log(`    ${c.username.padEnd(24)} ${c.password}`);
  console.log(
    dim(
      `    sign in: curl -s -X POST http://${config.HOST}:${config.PORT}/auth/token -H "content-type: application/json" \\`,
    ),
  );
  console.log(dim(`             -d '{"username":"demo.admin","password":"..."}'`));
}

/** `upc-mcp seed-demo`: synthetic demo data in the configured backends. Refused in production. */
export async function seedDemo(config: Config, options: Omit<SeedDemoOptions, 'clock'>): Promise<number> {
  if (!Number.isInteger(options.pacsPatients) || options.pacsPatients < 0 || options.pacsPatients > 100_000) {
    console.error(fail('--pacs must be a whole number of patients between 0 and 100000'));
    return 2;
  }
  if (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 0xffffffff) {
    console.error(fail('--seed must be a whole number between 0 and 4294967295'));
    return 2;
  }
  if (config.NODE_ENV === 'production') {
    console.error(
      fail('seed-demo is refused when NODE_ENV=production: demo users and data never go to production.'),
    );
    return 1;
  }
  // No statement time limit: seeding is a one-off batch, not a call someone waits on.
  const database = await openDatabase({ ...config, DATABASE_STATEMENT_TIMEOUT_MS: 0 });
  try {
    await migrate(database);
    const credentials = await seedDemoDatabase(database, config, {
      ...options,
      clock: clockFor(config.UPC_CLOCK_START),
    });
    printDemoCredentials(credentials, config);
    if (credentials.length === 0) console.log(ok('demo users already exist'));
  } finally {
    await database.close();
  }
  if (options.pacsPatients === 0) return 0;
  const pacs = await seedPacsDemo(config, {
    patients: options.pacsPatients,
    seed: options.seed,
    print: (line) => console.log(line),
  });
  if (pacs.failed > 0) {
    console.error(fail(`PACS: ${pacs.failed} images failed: ${pacs.errors.join('; ')}`));
    return 1;
  }
  console.log(
    ok(`PACS: ${pacs.patients} patients, ${pacs.studies} studies, ${pacs.instances} images loaded`),
  );
  return 0;
}
