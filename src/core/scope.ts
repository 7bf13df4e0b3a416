import { ToolError } from './errors.js';
import type { Principal } from './principal.js';

/** Which patients a caller may see: everyone (clinical staff) or an explicit set (referring doctors). */
export type PatientScope = { kind: 'all' } | { kind: 'patients'; patientIds: ReadonlySet<string> };

/** A source of patients a restricted caller may see, e.g. the RIS's "patients I referred or was assigned". */
export interface PatientScopeSource {
  patientsFor(principal: Principal): Promise<Iterable<string>>;
}

/** Roles whose access is limited to their own patients (ARCHITECTURE §6). */
const RESTRICTED_ROLES: ReadonlySet<Principal['role']> = new Set(['referring_doctor']);

/**
 * Resolves a caller's patient scope once per call. Restricted roles see the union of the token's explicit
 * `patients` claim and every registered source; everyone else sees all patients. Modules apply the scope
 * inside their queries (filters), never by filtering results afterwards.
 */
export class PatientScopeResolver {
  readonly #sources: PatientScopeSource[] = [];

  addSource(source: PatientScopeSource): void {
    this.#sources.push(source);
  }

  async resolve(principal: Principal): Promise<PatientScope> {
    if (!RESTRICTED_ROLES.has(principal.role)) return { kind: 'all' };
    const ids = new Set<string>(principal.patients ?? []);
    for (const source of this.#sources) {
      for (const id of await source.patientsFor(principal)) ids.add(id);
    }
    return { kind: 'patients', patientIds: ids };
  }
}

export function inScope(scope: PatientScope, patientId: string): boolean {
  return scope.kind === 'all' || scope.patientIds.has(patientId);
}

/** For single-item reads: answer OUT_OF_SCOPE (audited as denied) rather than revealing anything. */
export function assertInScope(scope: PatientScope, patientId: string): void {
  if (!inScope(scope, patientId)) {
    throw new ToolError(
      'OUT_OF_SCOPE',
      'This patient is outside your scope (not referred by or assigned to you).',
      {
        patient_id: patientId,
      },
    );
  }
}

/**
 * The one answer a scoped caller (a referring doctor) gets for a record it may not see, whether it does not
 * exist or belongs to someone else's patient: two different answers would tell it which records exist.
 * Callers who see every patient still hear NOT_FOUND for what does not exist.
 */
export function notVisible(what: string, details: Record<string, unknown>): ToolError {
  return new ToolError(
    'OUT_OF_SCOPE',
    `${what} is not one you may see: there is no such record, or it belongs to a patient outside your ` +
      'scope (not referred by or assigned to you).',
    details,
  );
}
