/**
 * Kinds of sensitive data. The policy file says which roles see each kind; the field map
 * (`security/field-redactions.ts`) says which output fields hold which kind, for every module's tools.
 */
export const REDACTION_KINDS = ['clinical_text', 'national_id', 'member_number', 'contact_details'] as const;
export type RedactionKind = (typeof REDACTION_KINDS)[number];

/** Field name → kind of sensitive data (e.g. `findings: 'clinical_text'`). */
export type FieldRedactions = Readonly<Record<string, RedactionKind>>;
