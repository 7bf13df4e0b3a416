/**
 * What makes a list of ICD-10 codes acceptable on a South African claim (the coding rules in force since
 * 1 July 2014; DOMAIN.md §2), in one place: the code format, the meaning of the MIT's Age_Range, and the
 * rules with the message each one gives. Pure functions over codes already looked up; `codes.api.ts` does
 * the looking up. Every rule id is listed in docs/CODES.md (a test checks).
 */
import type { Icd10Code, Icd10Problem, Icd10RuleId } from './codes.api.js';

// ---------------------------------------------------------------------------------------------------------
// Format (cheap, no database)
// ---------------------------------------------------------------------------------------------------------

/** WHO ICD-10: a letter, two digits, optionally a dot and one or two digits (A00, A00.0, M54.56). */
export const ICD10_CODE = /^[A-Z][0-9]{2}(\.[0-9]{1,2})?$/;

/**
 * The code as stored: trimmed, upper case, without the dagger/asterisk marks people copy from books
 * (A18.0†, M49.0*), and with the dot put back when it was left out (R074 → R07.4).
 */
export function normaliseIcd10(raw: string): string {
  const code = raw
    .trim()
    .toUpperCase()
    .replace(/[†‡*+!\s]/g, '');
  return /^[A-Z][0-9]{3,4}$/.test(code) ? `${code.slice(0, 3)}.${code.slice(3)}` : code;
}

/** Why a (normalised) code cannot be an ICD-10 code, or undefined when its shape is right. */
export function icd10FormatProblem(code: string): string | undefined {
  if (ICD10_CODE.test(code)) return undefined;
  const shown = code === '' ? 'An empty code' : `"${code}"`;
  const zeroed = code.slice(0, 1) + code.slice(1).replaceAll('O', '0');
  if (zeroed !== code && ICD10_CODE.test(zeroed)) {
    return `${shown} is not an ICD-10 code: did you mean ${zeroed} (the digit zero, not the letter O)?`;
  }
  // ICD-10-CM: up to four characters after the dot, letters among them (S82.101A, T14.8XXA).
  if (/^[A-Z][0-9][0-9A-Z]\.[0-9A-Z]{3,4}$/.test(code) || /^[A-Z][0-9]{2}\.[0-9]{0,3}[A-Z]/.test(code)) {
    return `${shown} looks like an ICD-10-CM (United States) code; South Africa uses WHO ICD-10: a letter, two digits and at most two digits after the dot, e.g. S82.2 or R07.4.`;
  }
  return `${shown} is not an ICD-10 code: expected a letter, two digits and optionally a dot with one or two digits, e.g. R51 or R07.4.`;
}

const inRange = (code3: string, from: string, to: string): boolean => code3 >= from && code3 <= to;
/** Chapter XIX: injury, poisoning and certain other consequences of external causes. */
export const isInjury = (code: string): boolean => inRange(code.slice(0, 3), 'S00', 'T98');
/** Chapter XX: external causes of morbidity and mortality. */
export const isExternalCause = (code: string): boolean => inRange(code.slice(0, 3), 'V01', 'Y98');

// ---------------------------------------------------------------------------------------------------------
// Age_Range
// ---------------------------------------------------------------------------------------------------------

export interface AgeBounds {
  /** The code fits from this exact age in years (inclusive); null: from birth. */
  minYears: number | null;
  /** ... up to, not including, this exact age in years; null: no upper bound. */
  underYears: number | null;
}

const UNIT = '(days?|d|weeks?|wks?|w|months?|mths?|mo|m|years?|yrs?|y)?';
const NUMBER = String.raw`(\d+(?:\.\d+)?)`;
const RANGE = new RegExp(String.raw`^${NUMBER}\s*${UNIT}\s*(?:-|–|to)\s*${NUMBER}\s*${UNIT}$`, 'i');
const COMPARISON = new RegExp(String.raw`^(>=|=>|≥|>|<=|=<|≤|<)\s*${NUMBER}\s*${UNIT}$`, 'i');
const WORDS = new RegExp(
  String.raw`^(under|less than|below|younger than|over|more than|older than|above)\s*${NUMBER}\s*${UNIT}$`,
  'i',
);
const AND_OVER = new RegExp(
  String.raw`^${NUMBER}\s*(?:\+\s*${UNIT}|${UNIT}\s*(?:\+|and over|and older|or older|and above))$`,
  'i',
);

function years(count: number, unit: string | undefined): number {
  const u = (unit ?? 'y').toLowerCase();
  const value = u.startsWith('d')
    ? count / 365.25
    : u.startsWith('w')
      ? (count * 7) / 365.25
      : u.startsWith('m')
        ? count / 12
        : count;
  return Math.round(value * 1e6) / 1e6;
}

/**
 * Reads the MIT's Age_Range. Ages in the published ranges count completed units, so "12-55 years" fits
 * from the 12th birthday until the 56th, "0-28 days" until day 29, "> 19 years" from the 20th birthday,
 * "< 1 year" until the first. Empty: no restriction ({null, null}). Undefined: not understood (the raw text
 * is kept and the age is not checked).
 */
export function parseAgeRange(raw: string | null): AgeBounds | undefined {
  const text = (raw ?? '').trim().replace(/\s+/g, ' ');
  if (text === '') return { minYears: null, underYears: null };
  let match = RANGE.exec(text);
  if (match) {
    const [, from, fromUnit, to, toUnit] = match;
    const unitTo = toUnit ?? fromUnit;
    const bounds = {
      minYears: years(Number(from), fromUnit ?? unitTo),
      underYears: years(Number(to) + 1, unitTo),
    };
    return bounds.minYears < bounds.underYears ? bounds : undefined;
  }
  match = COMPARISON.exec(text) ?? WORDS.exec(text);
  if (match) {
    const [, op, n, unit] = match as unknown as [string, string, string, string | undefined];
    const count = Number(n);
    switch (op.toLowerCase()) {
      case '>':
      case 'over':
      case 'more than':
      case 'older than':
      case 'above':
        return { minYears: years(count + 1, unit), underYears: null };
      case '>=':
      case '=>':
      case '≥':
        return { minYears: years(count, unit), underYears: null };
      case '<':
      case 'under':
      case 'less than':
      case 'below':
      case 'younger than':
        return count > 0 ? { minYears: null, underYears: years(count, unit) } : undefined;
      default: // <=, =<, ≤
        return { minYears: null, underYears: years(count + 1, unit) };
    }
  }
  match = AND_OVER.exec(text);
  if (match) return { minYears: years(Number(match[1]), match[2] ?? match[3]), underYears: null };
  return undefined;
}

function spokenAge(ageYears: number): string {
  if (ageYears < 1) {
    const days = Math.floor(ageYears * 365.25);
    return days === 1 ? '1 day old' : `${days} days old`;
  }
  const whole = Math.floor(ageYears);
  return whole === 1 ? '1 year old' : `${whole} years old`;
}

// ---------------------------------------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------------------------------------

export interface Icd10RuleContext {
  /** The day the codes must be in force on (the service date), YYYY-MM-DD in the practice's zone. */
  asOf: string;
  /** M or F is checked against the code's gender; anything else (O, U, absent) is not checked. */
  patientSex?: string | undefined;
  /** Exact age in years on the service date (a fraction for infants); absent: not checked. */
  patientAgeYears?: number | undefined;
}

/** What the rules need from the table: the codes found, and for headings or unknown codes what is under them. */
export interface Icd10Reference {
  /** By normalised code. */
  known: ReadonlyMap<string, Icd10Code>;
  /** Codes valid for clinical use under a three-character code, for suggestions. */
  under: ReadonlyMap<string, readonly Icd10Code[]>;
}

/** Each rule, what it checks (docs/CODES.md lists the same). */
export const ICD10_RULES: Readonly<Record<Icd10RuleId, string>> = {
  NO_CODES: 'At least one ICD-10 code is required (every claim and every line carries one).',
  BAD_FORMAT: 'The code has the shape of a WHO ICD-10 code (A00, A00.0, M54.56).',
  DUPLICATE_CODE: 'A code appears once in the list.',
  UNKNOWN_CODE: 'The code is in the ICD-10 table (the SA Master Industry Table, or the demo set).',
  NOT_VALID_FOR_CLINICAL_USE: 'The code is valid for clinical use (not a heading that has subdivisions).',
  NOT_VALID_AS_PRIMARY:
    'The first (primary) code is valid as primary: not an asterisk code, not an external-cause code (V01-Y98), and marked valid as primary in the MIT.',
  ASTERISK_WITHOUT_DAGGER: 'An asterisk (manifestation) code directly follows a dagger (aetiology) code.',
  EXTERNAL_CAUSE_REQUIRED:
    'A list with an injury or poisoning code (S00-T98) also has an external-cause code (V01-Y98).',
  AGE_MISMATCH: "The patient's age fits the code's age range.",
  GENDER_MISMATCH: "The patient's sex fits the code's gender.",
  NOT_IN_FORCE: 'The code is in force on the service date (SA start and end dates).',
};

const described = (c: Icd10Code): string => `${c.code} (${c.description})`;

function suggest(reference: Icd10Reference, code3: string, except?: string): string {
  const options = (reference.under.get(code3) ?? []).filter((c) => c.code !== except).slice(0, 6);
  if (options.length === 0) return 'Search for the right code with codes_search_icd10.';
  return `Codes under ${code3}: ${options.map((c) => `${c.code} ${c.description}`).join('; ')}.`;
}

const MESSAGES = {
  NO_CODES: () =>
    'No ICD-10 code given: every claim line needs at least one (the main condition first). Search with codes_search_icd10.',
  BAD_FORMAT: (problem: string) => problem,
  DUPLICATE_CODE: (code: string, first: number, again: number) =>
    `${code} is listed twice (positions ${first} and ${again}): list each code once.`,
  UNKNOWN_CODE: (code: string, hint: string) =>
    `${code} is not in the ICD-10 table (SA Master Industry Table). Check the code. ${hint}`,
  NOT_VALID_FOR_CLINICAL_USE: (c: Icd10Code, hint: string) =>
    `${described(c)} is a heading, not valid for clinical use: code to a more specific subdivision. ${hint}`,
  PRIMARY_ASTERISK: (c: Icd10Code) =>
    `${described(c)} is an asterisk (manifestation) code and cannot be the primary code: put the dagger code of the underlying disease first and this code directly after it.`,
  PRIMARY_EXTERNAL: (c: Icd10Code, injury: string | undefined) =>
    `${described(c)} is an external-cause code (V01-Y98) and cannot be the primary code: ${
      injury ? `put ${injury} first` : 'put the injury or condition it caused first'
    } and the external cause after it.`,
  PRIMARY_FLAG: (c: Icd10Code) =>
    `${described(c)} is not valid as a primary diagnosis in the SA MIT: put the main condition treated or investigated first.`,
  ASTERISK_WITHOUT_DAGGER: (c: Icd10Code, previous: Icd10Code | undefined) =>
    `${described(c)} is an asterisk (manifestation) code and must directly follow the dagger code of the underlying disease${
      previous ? `; it follows ${previous.code}, which is not a dagger code` : ''
    }. Put the dagger code right before it.`,
  EXTERNAL_CAUSE_REQUIRED: (injuries: string[]) =>
    `${injuries.join(', ')} ${injuries.length === 1 ? 'is an injury or poisoning code' : 'are injury or poisoning codes'} (S00-T98): add an external-cause code (V01-Y98) saying how it happened, e.g. W19 (unspecified fall) or V89.2 (person injured in a motor-vehicle traffic accident). Search with codes_search_icd10.`,
  AGE_MISMATCH: (c: Icd10Code, ageYears: number) =>
    `${described(c)} applies to patients aged ${c.ageRange}; the patient is ${spokenAge(ageYears)}. Check the code or the patient's date of birth.`,
  GENDER_MISMATCH: (c: Icd10Code, sex: 'M' | 'F') =>
    `${described(c)} applies to ${c.gender === 'F' ? 'female' : 'male'} patients only; the patient is recorded as ${
      sex === 'F' ? 'female' : 'male'
    }. Check the code or the patient's sex.`,
  NOT_IN_FORCE: (c: Icd10Code, asOf: string) =>
    `${described(c)} is not in force on ${asOf}: in SA it is valid ${
      c.saStartDate ? `from ${c.saStartDate}` : ''
    }${c.saStartDate && c.saEndDate ? ' ' : ''}${c.saEndDate ? `until ${c.saEndDate}` : ''}. ${
      c.saEndDate && asOf > c.saEndDate
        ? 'Use the code that replaced it (search with codes_search_icd10).'
        : 'Use a code in force on the service date.'
    }`,
} as const;

/**
 * Checks a list of codes (the first is the primary) against the coding rules; returns every problem found,
 * in list order, or nothing. Codes are normalised first (`normaliseIcd10`); problems name the code as
 * normalised and its 1-based position.
 */
export function validateIcd10(
  rawCodes: readonly string[],
  context: Icd10RuleContext,
  reference: Icd10Reference,
): Icd10Problem[] {
  const problems: Icd10Problem[] = [];
  const add = (rule: Icd10RuleId, code: string | null, position: number | null, message: string) =>
    problems.push({ code, position, rule, message });
  if (rawCodes.length === 0) {
    add('NO_CODES', null, null, MESSAGES.NO_CODES());
    return problems;
  }
  const codes = rawCodes.map(normaliseIcd10);
  const found: (Icd10Code | undefined)[] = [];
  const wellFormed = codes.map((code) => ICD10_CODE.test(code));
  const seen = new Map<string, number>();
  for (const [i, code] of codes.entries()) {
    const position = i + 1;
    const formatProblem = icd10FormatProblem(code);
    if (formatProblem) {
      add('BAD_FORMAT', code, position, MESSAGES.BAD_FORMAT(formatProblem));
      found.push(undefined);
      continue;
    }
    const firstAt = seen.get(code);
    if (firstAt !== undefined) {
      add('DUPLICATE_CODE', code, position, MESSAGES.DUPLICATE_CODE(code, firstAt, position));
      found.push(undefined);
      continue;
    }
    seen.set(code, position);
    const c = reference.known.get(code);
    found.push(c);
    if (!c) {
      add('UNKNOWN_CODE', code, position, MESSAGES.UNKNOWN_CODE(code, suggest(reference, code.slice(0, 3))));
      continue;
    }
    if (!c.validClinicalUse) {
      add(
        'NOT_VALID_FOR_CLINICAL_USE',
        code,
        position,
        MESSAGES.NOT_VALID_FOR_CLINICAL_USE(c, suggest(reference, c.code3, c.code)),
      );
    }
    if (position === 1) {
      if (c.asterisk) add('NOT_VALID_AS_PRIMARY', code, 1, MESSAGES.PRIMARY_ASTERISK(c));
      else if (isExternalCause(code)) {
        add('NOT_VALID_AS_PRIMARY', code, 1, MESSAGES.PRIMARY_EXTERNAL(c, codes.find(isInjury)));
      } else if (!c.validPrimary && c.validClinicalUse) {
        add('NOT_VALID_AS_PRIMARY', code, 1, MESSAGES.PRIMARY_FLAG(c));
      }
    } else if (c.asterisk && !found[i - 1]?.dagger) {
      add('ASTERISK_WITHOUT_DAGGER', code, position, MESSAGES.ASTERISK_WITHOUT_DAGGER(c, found[i - 1]));
    }
    const age = context.patientAgeYears;
    if (
      age !== undefined &&
      ((c.ageMinYears !== null && age < c.ageMinYears) ||
        (c.ageUnderYears !== null && age >= c.ageUnderYears))
    ) {
      add('AGE_MISMATCH', code, position, MESSAGES.AGE_MISMATCH(c, age));
    }
    const sex = context.patientSex?.toUpperCase();
    if (c.gender && (sex === 'M' || sex === 'F') && sex !== c.gender) {
      add('GENDER_MISMATCH', code, position, MESSAGES.GENDER_MISMATCH(c, sex));
    }
    if ((c.saStartDate && context.asOf < c.saStartDate) || (c.saEndDate && context.asOf > c.saEndDate)) {
      add('NOT_IN_FORCE', code, position, MESSAGES.NOT_IN_FORCE(c, context.asOf));
    }
  }
  // Unknown codes count here by their shape: an unknown injury code is still an injury, and an unknown
  // external-cause code is reported once, as unknown.
  const injuries = [...new Set(codes.filter((code, i) => wellFormed[i] && isInjury(code)))];
  if (injuries.length > 0 && !codes.some((code, i) => wellFormed[i] && isExternalCause(code))) {
    const position = codes.indexOf(injuries[0]!) + 1;
    add('EXTERNAL_CAUSE_REQUIRED', injuries[0]!, position, MESSAGES.EXTERNAL_CAUSE_REQUIRED(injuries));
  }
  return problems;
}
