import { invalidParameters } from '../../core/errors.js';
import { localParts } from '../../core/practice-time.js';
import type { RisDeps } from './ris.access.js';
import type { Patient } from './ris.patients.store.js';

const DAY_MS = 86_400_000;

/**
 * An order's ICD-10 codes, checked by the codes module's rules (valid for clinical use, a valid primary
 * first, the external cause an injury needs, the patient's age and sex, in force today) before anything is
 * written: a code a medical aid will reject is cheaper to fix at the front desk than on a rejected claim.
 */
export async function checkDiagnosisCodes(
  deps: RisDeps,
  codes: readonly string[],
  patient: Patient,
): Promise<void> {
  const today = localParts(deps.now(), await deps.timeZone()).date;
  const problems = await deps.codes.validateIcd10(codes, {
    asOf: today,
    patientSex: patient.sex,
    patientAgeYears:
      (Date.parse(`${today}T00:00:00Z`) - Date.parse(`${patient.birthDate}T00:00:00Z`)) / DAY_MS / 365.25,
  });
  if (problems.length === 0) return;
  throw invalidParameters(
    problems.map((problem) => ({
      field: problem.position === null ? 'icd10_codes' : `icd10_codes.${problem.position - 1}`,
      message: problem.message,
      code: problem.rule,
    })),
  );
}
