/**
 * Turning tool parameters into Orthanc `/tools/find` constraints: DICOM dates and ranges, modalities,
 * wildcards, pagination and, above all, the caller's patient scope, which is applied *inside* the query.
 */
import { z } from 'zod';
import type { PatientScope } from '../../core/scope.js';
import { assertInScope } from '../../core/scope.js';

/**
 * DICOM Modality defined terms (PS3.3 C.7.3.1.1.1), plus the retired ones still seen in old archives.
 * A value outside this list is refused rather than sent to the PACS as a query that can never match.
 */
// biome-ignore format: compact list
export const MODALITIES = [
  'AR', 'ASMT', 'AU', 'BDUS', 'BI', 'BMD', 'CR', 'CT', 'CTPROTOCOL', 'DG', 'DOC', 'DX', 'ECG', 'EEG', 'EMG',
  'EOG', 'EPS', 'ES', 'FID', 'GM', 'HC', 'HD', 'IO', 'IOL', 'IVOCT', 'IVUS', 'KER', 'KO', 'LEN', 'LS', 'M3D',
  'MG', 'MR', 'NM', 'OAM', 'OCT', 'OP', 'OPM', 'OPT', 'OPTBSV', 'OPTENF', 'OPV', 'OSS', 'OT', 'PLAN', 'POS',
  'PR', 'PT', 'PX', 'REG', 'RESP', 'RF', 'RG', 'RTDOSE', 'RTIMAGE', 'RTINTENT', 'RTPLAN', 'RTRAD',
  'RTRECORD', 'RTSEGANN', 'RTSTRUCT', 'RWV', 'SEG', 'SM', 'SMR', 'SR', 'SRF', 'STAIN', 'TEXTUREMAP', 'TG',
  'US', 'VA', 'XA', 'XAPROTOCOL', 'XC',
  // retired, still found in archives
  'CD', 'DD', 'DM', 'EC', 'MA', 'MS', 'ST', 'VF',
] as const;

export type DicomModality = (typeof MODALITIES)[number];

export const modalitySchema = z
  .string()
  .trim()
  .transform((v) => v.toUpperCase())
  .pipe(z.enum(MODALITIES, { error: 'not a DICOM modality (e.g. CT, MR, CR, DX, US, MG, NM, PT, XA)' }))
  .describe('DICOM modality code, e.g. CT, MR, CR, DX, US, MG');

const DATE = /^(\d{4})(\d{2})(\d{2})$/;

function isRealDate(value: string): boolean {
  const match = DATE.exec(value);
  if (!match) return false;
  const [, y, m, d] = match.map(Number) as [number, number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d && y >= 1800;
}

/**
 * `YYYYMMDD`, `YYYYMMDD-YYYYMMDD`, `YYYYMMDD-` (from) or `-YYYYMMDD` (until), passed to Orthanc unchanged
 * (DICOM range matching). Impossible dates and reversed ranges are refused with the field named.
 */
export const dicomDateRangeSchema = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    const parts = value.split('-');
    const problem = (message: string) => ctx.addIssue({ code: 'custom', message });
    if (parts.length > 2 || (parts.length === 2 && parts[0] === '' && parts[1] === '')) {
      return problem('expected YYYYMMDD, YYYYMMDD-YYYYMMDD, YYYYMMDD- or -YYYYMMDD');
    }
    for (const part of parts) {
      if (part === '') continue;
      if (!DATE.test(part)) return problem('expected YYYYMMDD, YYYYMMDD-YYYYMMDD, YYYYMMDD- or -YYYYMMDD');
      if (!isRealDate(part)) return problem(`${part} is not a real calendar date`);
    }
    const [from, to] = parts;
    if (from && to && from > to) problem(`the range is reversed: ${from} is after ${to}`);
  })
  .describe('Study date YYYYMMDD or range YYYYMMDD-YYYYMMDD (open ends allowed: YYYYMMDD- or -YYYYMMDD)');

/** A backslash would turn a value into a DICOM list match; no single value may contain one. */
export const dicomText = (max = 64) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((v) => !v.includes('\\'), 'must not contain a backslash');

export const MAX_PAGE = 100;

export const pageInput = {
  limit: z.number().int().min(1).max(MAX_PAGE).default(25).describe(`Page size, at most ${MAX_PAGE}`),
  offset: z
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(0)
    .describe('Where to start: next_offset of the last page'),
};

const hasWildcard = (value: string) => /[*?]/.test(value);

/**
 * Free-text name search: with `*`/`?` the pattern is used as given (DICOM wildcard matching); without,
 * it matches anywhere in the name, which is what a person typing "dlamini" expects. Case-insensitive.
 */
export function nameQuery(name: string): string {
  return hasWildcard(name) ? name : `*${name}*`;
}

function wildcardRegExp(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${escaped}$`, 'i');
}

/** The PatientID constraint for a search, or `none` when the caller may see no matching patient at all. */
export type PatientConstraint = { kind: 'any' } | { kind: 'value'; value: string } | { kind: 'none' };

/**
 * Applies the caller's scope to a search's PatientID filter, inside the query:
 * - everyone-scope: the caller's own filter (if any) as given;
 * - restricted scope: a DICOM list match (`A\B\C`) over the allowed ids, narrowed by the caller's filter.
 *   An exact `patient_id` outside the scope is OUT_OF_SCOPE (audited as denied), like a single read.
 * Because the constraint is part of the `/tools/find` query, Orthanc's `Limit`/`Since` page over the
 * allowed patients only: pages are full and `next_offset` stays correct. Ids containing `*`, `?` or `\`
 * cannot be expressed in a list match and are left out (DICOM LO forbids `\` anyway).
 */
export function patientConstraint(scope: PatientScope, requested: string | undefined): PatientConstraint {
  if (scope.kind === 'all') return requested ? { kind: 'value', value: requested } : { kind: 'any' };
  if (requested && !hasWildcard(requested)) {
    assertInScope(scope, requested);
    return { kind: 'value', value: requested };
  }
  const pattern = requested ? wildcardRegExp(requested) : undefined;
  const allowed = [...scope.patientIds]
    .filter((id) => id !== '' && !/[*?\\]/.test(id))
    .filter((id) => !pattern || pattern.test(id))
    .sort();
  return allowed.length === 0 ? { kind: 'none' } : { kind: 'value', value: allowed.join('\\') };
}

/** `next_offset` from a page fetched with one extra row to learn whether more exist. */
export function pageOf<T>(
  rows: T[],
  offset: number,
  limit: number,
): { items: T[]; next_offset: number | null } {
  const more = rows.length > limit;
  return { items: more ? rows.slice(0, limit) : rows, next_offset: more ? offset + limit : null };
}
