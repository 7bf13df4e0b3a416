/**
 * Reporting rules, pure (no I/O): the report workflow mapped to FHIR R4 `DiagnosticReport.status`, and
 * the exact content a signature covers.
 */
import { sha256Hex, stableStringify } from '../../core/stable-json.js';
import type { ReportStatus } from './reporting.tables.js';

/** The six sections of a report, in reading order. */
export const SECTIONS = [
  'clinical_history',
  'technique',
  'comparison',
  'findings',
  'impression',
  'recommendations',
] as const;
export type SectionName = (typeof SECTIONS)[number];
export type Sections = Record<SectionName, string>;

/** Sections a report cannot be submitted or signed without. */
export const REQUIRED_TO_SIGN: readonly SectionName[] = ['findings', 'impression'];

/** Statuses whose current version carries a signature. */
export const SIGNED_STATUSES: ReadonlySet<ReportStatus> = new Set([
  'final',
  'amended',
  'appended',
  'corrected',
]);

/** Statuses whose text may still be edited in place (as a new unsigned version). */
export const EDITABLE_STATUSES: ReadonlySet<ReportStatus> = new Set(['draft', 'preliminary']);

/**
 * The workflow: draft → preliminary (transcribed, in review) → final (signed) → appended (addendum) /
 * corrected (correction), again and again; a radiologist may sign a draft directly. `amended` is FHIR's
 * general post-final state; this module records the specific kind. Cancelled and entered-in-error end it.
 */
export const TRANSITIONS: Readonly<Record<ReportStatus, readonly ReportStatus[]>> = {
  draft: ['preliminary', 'final', 'cancelled'],
  preliminary: ['final', 'cancelled'],
  final: ['appended', 'corrected', 'entered-in-error'],
  amended: ['appended', 'corrected', 'entered-in-error'],
  appended: ['appended', 'corrected', 'entered-in-error'],
  corrected: ['appended', 'corrected', 'entered-in-error'],
  cancelled: [],
  'entered-in-error': [],
};

export function canTransition(from: ReportStatus, to: ReportStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The sections still empty that signing (or submitting) needs. */
export function missingForSignature(sections: Sections): SectionName[] {
  return REQUIRED_TO_SIGN.filter((name) => sections[name].trim() === '');
}

/** Everything a signature covers, exactly. Documented in docs/REPORTING.md so anyone can re-check it. */
export interface SignedContent {
  report_id: number;
  accession_number: string;
  patient_id: string;
  version: number;
  status: ReportStatus;
  sections: Sections;
  addendum: string | null;
  critical_finding: boolean;
  icd10_codes: readonly string[];
  reason: string | null;
  predecessor_version: number | null;
  signed_by: string;
  /** ISO 8601 in UTC, milliseconds (`Date.prototype.toISOString`). */
  signed_at: string;
}

/** SHA-256 (hex) of the stable JSON of the signed content: equal content, equal hash, whatever key order. */
export function contentHash(content: SignedContent): string {
  return sha256Hex(stableStringify(content));
}
