/**
 * What other modules may use of the codes module (`deps.use<CodesApi>('codes')`): ICD-10 look-up, search
 * and validation, tariff items and prices as of a day. This file and the types it exports are the only
 * part of the module other modules import.
 */
import { localParts } from '../../core/practice-time.js';
import type { CodesDb } from './codes.tables.js';
import { normaliseIcd10, validateIcd10 } from './icd10.rules.js';
import { findIcd10, icd10Under, searchIcd10 } from './icd10.store.js';
import { tariffItemOn, tariffPriceOn } from './tariffs.store.js';

/** A calendar day: YYYY-MM-DD in the practice's time zone, or an instant (read in that zone). */
export type DayLike = string | Date;

/** One ICD-10 code as the SA Master Industry Table describes it. Dates are YYYY-MM-DD. */
export interface Icd10Code {
  code: string;
  /** WHO_Full_Desc. */
  description: string;
  code3: string;
  code3Description: string;
  chapterNo: string;
  chapterDescription: string;
  groupCode: string;
  groupDescription: string;
  validClinicalUse: boolean;
  validPrimary: boolean;
  asterisk: boolean;
  dagger: boolean;
  sequelae: boolean;
  /** As published, e.g. "0-28 days"; null: any age. */
  ageRange: string | null;
  /** From `ageRange`: fits ages >= min and < under (years); both null when absent or not understood. */
  ageMinYears: number | null;
  ageUnderYears: number | null;
  /** Null: either sex. */
  gender: 'M' | 'F' | null;
  status: string | null;
  whoStartDate: string | null;
  whoEndDate: string | null;
  saStartDate: string | null;
  /** The last day the code may be used in SA; null: no end. */
  saEndDate: string | null;
  /** 'demo' or 'mit:<file name>'. */
  source: string;
}

export type Icd10RuleId =
  | 'NO_CODES'
  | 'BAD_FORMAT'
  | 'DUPLICATE_CODE'
  | 'UNKNOWN_CODE'
  | 'NOT_VALID_FOR_CLINICAL_USE'
  | 'NOT_VALID_AS_PRIMARY'
  | 'ASTERISK_WITHOUT_DAGGER'
  | 'EXTERNAL_CAUSE_REQUIRED'
  | 'AGE_MISMATCH'
  | 'GENDER_MISMATCH'
  | 'NOT_IN_FORCE';

/** One thing wrong with a list of codes, phrased so a person can fix it. */
export interface Icd10Problem {
  /** The code as normalised (R074 → R07.4); null for a problem with the list as a whole. */
  code: string | null;
  /** 1-based place in the list (1 is the primary code); null for the list as a whole. */
  position: number | null;
  rule: Icd10RuleId;
  message: string;
}

export interface Icd10ValidationContext {
  /** The service date the codes must be in force on; default today in the practice's zone. */
  asOf?: DayLike;
  /** 'M' or 'F' are checked against gender-specific codes; 'O', 'U' or absent are not. */
  patientSex?: string;
  /** Exact age in years on the service date (a fraction for infants, e.g. 10 days ≈ 0.027). */
  patientAgeYears?: number;
}

export interface Icd10SearchOptions {
  /** 1-50, default 10. */
  limit?: number;
  /** Leave out headings that are not valid for clinical use; default false. */
  clinicalUseOnly?: boolean;
}

export interface TariffItem {
  code: string;
  description: string;
  kind: 'item' | 'modifier';
  modality: string | null;
  effectiveFrom: string;
  effectiveTo: string | null;
  /** 'demo' or 'import:<file name>'. */
  source: string;
}

export interface TariffPrice {
  table: string;
  code: string;
  /** ZAR, integer cents, as published in the table (VAT is billing's business). */
  amountCents: number;
  effectiveFrom: string;
  effectiveTo: string | null;
  source: string;
}

export interface CodesApi {
  /** Every coding-rule problem with `codes` (the first is the primary); empty when they may be claimed. */
  validateIcd10(codes: readonly string[], context?: Icd10ValidationContext): Promise<Icd10Problem[]>;
  /** One code (normalised first: "r074" finds R07.4), or undefined. */
  icd10(code: string): Promise<Icd10Code | undefined>;
  /** Codes by description words (ranked) or by code prefix ("S06", "S06.0"). */
  searchIcd10(text: string, options?: Icd10SearchOptions): Promise<Icd10Code[]>;
  /** The tariff item in force on that day, or undefined. */
  tariffItem(code: string, asOf: DayLike): Promise<TariffItem | undefined>;
  /** The price of `code` in tariff table `table` on that day, or undefined (no price that day). */
  tariffPrice(table: string, code: string, asOf: DayLike): Promise<TariffPrice | undefined>;
}

export interface CodesApiDeps {
  db: CodesDb;
  /** The practice's IANA time zone (for instants and "today"). */
  timeZone(): Promise<string>;
  /** The product clock. */
  now(): Date;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A day as YYYY-MM-DD: text is taken as it is (checked), an instant is read in the practice's zone. */
export async function dayOf(deps: Pick<CodesApiDeps, 'timeZone' | 'now'>, day?: DayLike): Promise<string> {
  if (typeof day === 'string') {
    const parsed = new Date(`${day}T00:00:00Z`);
    if (!DAY.test(day) || Number.isNaN(parsed.getTime()) || !parsed.toISOString().startsWith(day))
      throw new RangeError(`"${day}" is not a day (YYYY-MM-DD)`);
    return day;
  }
  return localParts(day ?? deps.now(), await deps.timeZone()).date;
}

export function createCodesApi(deps: CodesApiDeps): CodesApi {
  const { db } = deps;
  return {
    async validateIcd10(codes, context = {}) {
      const asOf = await dayOf(deps, context.asOf);
      const normalised = codes.map(normaliseIcd10);
      const known = await findIcd10(db, normalised);
      // Suggestions for headings and for unknown codes whose heading exists.
      const headings = normalised
        .filter((code) => !known.get(code)?.validClinicalUse)
        .map((code) => code.slice(0, 3));
      const under = await icd10Under(db, headings);
      return validateIcd10(
        codes,
        { asOf, patientSex: context.patientSex, patientAgeYears: context.patientAgeYears },
        { known, under },
      );
    },
    async icd10(code) {
      const normalised = normaliseIcd10(code);
      return (await findIcd10(db, [normalised])).get(normalised);
    },
    searchIcd10(text, options = {}) {
      return searchIcd10(db, text, {
        limit: Math.min(Math.max(options.limit ?? 10, 1), 50),
        clinicalUseOnly: options.clinicalUseOnly ?? false,
      });
    },
    async tariffItem(code, asOf) {
      return tariffItemOn(db, code.trim().toUpperCase(), await dayOf(deps, asOf));
    },
    async tariffPrice(table, code, asOf) {
      return tariffPriceOn(
        db,
        table.trim().toLowerCase(),
        code.trim().toUpperCase(),
        await dayOf(deps, asOf),
      );
    },
  };
}
