/**
 * What other modules may read of the RIS (`deps.use<RisApi>('ris')`): read-only and narrow. Today: the
 * studies scanned and waiting for a report, for the reporting worklist. This file and the types it exports
 * are the only part of the RIS other modules import.
 */
import type { PatientScope } from '../../core/scope.js';
import type { RisDb } from './ris.tables.js';
import { type CompletedStudy, completedStudies } from './ris.worklist.store.js';

export type { CompletedStudy };

export interface RisApi {
  /**
   * Appointments COMPLETED (scanned, not yet REPORTED), stat before urgent before routine, then oldest
   * first, within the caller's patient scope (apply `ctx.patientScope()`), at most `limit`.
   */
  completedStudies(scope: PatientScope, limit: number): Promise<CompletedStudy[]>;
}

export function createRisApi(db: RisDb): RisApi {
  return { completedStudies: (scope, limit) => completedStudies(db, scope, limit) };
}
