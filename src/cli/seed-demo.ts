import type { Config } from '../config.js';
import { ok } from './output.js';

export interface SeedDemoOptions {
  pacsPatients: number;
  seed: number;
}

/** Loads synthetic demo data into the configured backends. */
export async function seedDemo(_config: Config, options: SeedDemoOptions): Promise<number> {
  console.log(ok(`nothing to seed yet (pacs=${options.pacsPatients}, seed=${options.seed})`));
  return 0;
}
