import type { TestProject } from 'vitest/node';
import { ensurePostgres } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

/** Runs once per test run: makes sure a PostgreSQL server is there and tells every test file where. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const postgres = await ensurePostgres();
  project.provide('pgAdminUrl', postgres.adminUrl);
  return () => postgres.stop();
}
