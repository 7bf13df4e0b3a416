import type { Config } from '../config.js';
import { seedPacsDemo } from '../modules/pacs/pacs.demo.js';
import { fail, ok } from './output.js';

export interface SeedDemoOptions {
  pacsPatients: number;
  seed: number;
}

/** Loads synthetic demo data into the configured backends; each module's part is its own function. */
export async function seedDemo(config: Config, options: SeedDemoOptions): Promise<number> {
  if (!Number.isInteger(options.pacsPatients) || options.pacsPatients < 0 || options.pacsPatients > 100_000) {
    console.error(fail('--pacs must be a whole number of patients between 0 and 100000'));
    return 2;
  }
  if (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 0xffffffff) {
    console.error(fail('--seed must be a whole number between 0 and 4294967295'));
    return 2;
  }
  let code = 0;
  if (options.pacsPatients > 0) {
    const pacs = await seedPacsDemo(config, {
      patients: options.pacsPatients,
      seed: options.seed,
      print: (line) => console.log(line),
    });
    if (pacs.failed > 0) {
      console.error(fail(`PACS: ${pacs.failed} images failed: ${pacs.errors.join('; ')}`));
      code = 1;
    } else {
      console.log(
        ok(`PACS: ${pacs.patients} patients, ${pacs.studies} studies, ${pacs.instances} images loaded`),
      );
    }
  }
  if (options.pacsPatients === 0) console.log(ok('nothing to seed (use --pacs N)'));
  return code;
}
