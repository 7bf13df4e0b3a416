import type { FieldRedactions } from '../core/redaction-kinds.js';

/**
 * The field-level redaction map: output field name → kind of sensitive data, for every tool of every
 * module. A module returning `sa_id_number` or `findings` is masked for the roles the policy names without
 * declaring anything; a module adds a field here only when its name is not self-explanatory elsewhere
 * (declared in its factory's `redactions`, applied to its own tools).
 */
export const FIELD_REDACTIONS: FieldRedactions = {
  // National identity numbers (masked whole: see maskWhole).
  sa_id_number: 'national_id',
  id_number: 'national_id',
  national_id_number: 'national_id',
  passport_number: 'national_id',
  // Medical-aid membership (masked but for the last four characters).
  medical_aid_number: 'member_number',
  member_number: 'member_number',
  membership_number: 'member_number',
  // Clinical text: what a report or an order says about the patient.
  clinical_indication: 'clinical_text',
  clinical_history: 'clinical_text',
  findings: 'clinical_text',
  impression: 'clinical_text',
  recommendations: 'clinical_text',
  report_text: 'clinical_text',
  dictation: 'clinical_text',
  transcript: 'clinical_text',
  addendum: 'clinical_text',
  // Where a patient lives.
  patient_address: 'contact_details',
  home_address: 'contact_details',
  postal_address: 'contact_details',
  physical_address: 'contact_details',
};

/**
 * Names that say "sensitive" whatever module uses them. An output field matching one must be covered by
 * the map (or the module's own declaration), or the server refuses to start: a new tool cannot leak one
 * by forgetting to declare it.
 */
const SENSITIVE_NAMES: readonly RegExp[] = [
  /(^|_)id_number$|passport/,
  /(^|_)(member|membership|medical_aid)_number$/,
  /(^|_)(findings|impression|clinical_[a-z]+|dictation|transcript|report_text)$/,
  /(^|_)(home|postal|physical|residential|patient)_address$/,
];

/**
 * Every object key an output schema can fill with text, at any depth (in its JSON Schema form). Only text
 * can leak: a flag named `valid_clinical_use` or a count carries no patient's words or numbers.
 */
export function textFieldNames(jsonSchema: unknown): Set<string> {
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (record.properties && typeof record.properties === 'object') {
      for (const [key, value] of Object.entries(record.properties)) if (holdsText(value)) names.add(key);
    }
    for (const value of Object.values(record)) visit(value);
  };
  visit(jsonSchema);
  return names;
}

function holdsText(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(holdsText);
  if (!node || typeof node !== 'object') return false;
  const record = node as Record<string, unknown>;
  if (record.type === 'string' || (Array.isArray(record.type) && record.type.includes('string'))) return true;
  return ['anyOf', 'oneOf', 'items'].some((key) => holdsText(record[key]));
}

/** The sensitive-looking output fields of a tool that neither the map nor its module covers. */
export function uncoveredSensitiveFields(
  outputSchema: unknown,
  moduleFields: FieldRedactions = {},
): string[] {
  return [...textFieldNames(outputSchema)].filter(
    (field) =>
      !(field in FIELD_REDACTIONS) &&
      !(field in moduleFields) &&
      SENSITIVE_NAMES.some((pattern) => pattern.test(field)),
  );
}
