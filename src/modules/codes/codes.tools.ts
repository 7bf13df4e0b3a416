/** The codes module's tools: ICD-10 search and validation, tariff items as of a day. No patient data. */
import { z } from 'zod';
import { READ_ONLY } from '../../core/annotations.js';
import { invalidField } from '../../core/errors.js';
import type { AnyTool } from '../../core/tool.js';
import { defineTool } from '../../core/tool.js';
import { type CodesApi, type CodesApiDeps, dayOf, type Icd10Code } from './codes.api.js';
import { TARIFF_KINDS } from './codes.tables.js';
import { normaliseIcd10 } from './icd10.rules.js';
import { findIcd10 } from './icd10.store.js';
import { searchTariffItems, type TariffSearchHit, tariffTableIds } from './tariffs.store.js';

export interface CodesToolDeps extends CodesApiDeps {
  api: CodesApi;
}

// ---------------------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------------------

const isoDate = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, {
    message: 'must be a date YYYY-MM-DD',
    abort: true,
  })
  .refine((text) => new Date(`${text}T00:00:00Z`).toISOString().startsWith(text), {
    // (the pattern keeps month and day in range, so the Date is valid; a 30 February rolls over to March)
    message: 'is not a real date (that month has fewer days)',
  })
  .meta({ format: 'date' });

const icd10Out = z.object({
  code: z.string(),
  description: z.string().describe('WHO full description'),
  code_3: z.string().describe('The three-character category it belongs to'),
  code_3_description: z.string(),
  group: z.string().describe('The block, e.g. "S00-S09 Injuries to the head"'),
  valid_clinical_use: z
    .boolean()
    .describe('False for headings that have subdivisions: code to one of those instead'),
  valid_primary: z.boolean().describe('May be the first (primary) code on a claim'),
  asterisk: z.boolean().describe('Manifestation code: must directly follow a dagger code, never primary'),
  dagger: z.boolean().describe('Aetiology code an asterisk code may follow'),
  sequelae: z.boolean(),
  age_range: z.string().nullable().describe('Ages the code applies to, as published; null: any age'),
  gender: z.enum(['M', 'F']).nullable().describe('The only sex the code applies to; null: either'),
  sa_start_date: z.string().nullable(),
  sa_end_date: z.string().nullable().describe('Last day the code may be used in SA; null: no end'),
  demo: z.boolean().describe('True for the demo set (not the imported MIT)'),
});

function icd10Of(c: Icd10Code): z.input<typeof icd10Out> {
  return {
    code: c.code,
    description: c.description,
    code_3: c.code3,
    code_3_description: c.code3Description,
    group: `${c.groupCode} ${c.groupDescription}`,
    valid_clinical_use: c.validClinicalUse,
    valid_primary: c.validPrimary,
    asterisk: c.asterisk,
    dagger: c.dagger,
    sequelae: c.sequelae,
    age_range: c.ageRange,
    gender: c.gender,
    sa_start_date: c.saStartDate,
    sa_end_date: c.saEndDate,
    demo: c.source === 'demo',
  };
}

const searchInput = z.object({
  query: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(200)
    .describe(
      'Words of the condition ("chest pain", "fracture femur") or the start of a code ("S06", "R07.4")',
    ),
  limit: z.number().int().min(1).max(50).default(10).describe('At most this many codes (1-50)'),
  clinical_use_only: z
    .boolean()
    .default(false)
    .describe('Leave out headings that are not valid for clinical use'),
});

const problemOut = z.object({
  code: z.string().nullable().describe('The code as normalised; null when about the whole list'),
  position: z.number().int().nullable().describe('1-based place in the list; 1 is the primary code'),
  rule: z.string().describe('Stable rule id, e.g. EXTERNAL_CAUSE_REQUIRED (docs/CODES.md)'),
  message: z.string().describe('What is wrong and what to do'),
});

const validateInput = z.object({
  codes: z
    .array(z.string().max(20, 'must be at most 20 characters'))
    .min(1, 'give at least one code')
    .max(30, 'at most 30 codes')
    .describe('ICD-10 codes in claim order: the primary (main) code first'),
  patient_sex: z
    .enum(['M', 'F', 'O', 'U'])
    .optional()
    .describe('M or F is checked against gender-specific codes; O (other) and U (unknown) are not'),
  patient_age_years: z
    .number()
    .min(0)
    .max(130)
    .optional()
    .describe('Age on the service date in years; a fraction for infants (10 days = 0.027)'),
  service_date: isoDate.optional().describe('The day of the service (YYYY-MM-DD); default today'),
});

const priceOut = z.object({
  table: z.string(),
  amount_cents: z.number().int().describe('ZAR cents as published in the table'),
  amount: z.string().describe('The same in rand, e.g. "R 2 850.00"'),
  effective_from: z.string(),
  effective_to: z.string().nullable(),
});

const tariffItemOut = z.object({
  code: z.string(),
  description: z.string(),
  kind: z.enum(TARIFF_KINDS),
  modality: z.string().nullable(),
  effective_from: z.string(),
  effective_to: z.string().nullable().describe('Last day in force; null: no end'),
  demo: z.boolean().describe('True for demo codes (invented, not a published tariff)'),
  price: priceOut.nullable().describe('The price in `table` on the day; null without `table` or no price'),
});

const listTariffInput = z.object({
  query: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .describe('Start of a code ("30", "DEMO-M") or words of the description ("CT head")'),
  modality: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{2,3}$/, 'must be a DICOM modality code such as CT, MR, CR, US or MG')
    .optional(),
  kind: z.enum(TARIFF_KINDS).optional().describe('item or modifier'),
  as_of: isoDate.optional().describe('Items in force on this day (YYYY-MM-DD); default today'),
  table: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9][a-z0-9._-]{0,39}$/, 'must be a tariff table id such as demo')
    .optional()
    .describe('Also show prices from this tariff table, e.g. "demo"'),
  limit: z.number().int().min(1).max(100).default(25),
});

/** R 2 850.00 */
export function rand(cents: number): string {
  const whole = Math.floor(cents / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  return `R ${whole}.${String(cents % 100).padStart(2, '0')}`;
}

function tariffOf(hit: TariffSearchHit): z.input<typeof tariffItemOut> {
  const { item, price } = hit;
  return {
    code: item.code,
    description: item.description,
    kind: item.kind,
    modality: item.modality,
    effective_from: item.effectiveFrom,
    effective_to: item.effectiveTo,
    demo: item.source === 'demo',
    price: price && {
      table: price.table,
      amount_cents: price.amountCents,
      amount: rand(price.amountCents),
      effective_from: price.effectiveFrom,
      effective_to: price.effectiveTo,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------------------------------------

export function codesTools(deps: CodesToolDeps): AnyTool[] {
  const searchIcd10 = defineTool({
    name: 'codes_search_icd10',
    title: 'Search ICD-10 codes',
    description:
      'Finds WHO ICD-10 diagnosis codes (the South African Master Industry Table) by words of the ' +
      'condition ("chest pain", "fracture neck of femur"), best match first, or by the start of a code ' +
      '("S06", "R07.4"), in code order. Use it to pick codes for an order, report or invoice, then check ' +
      'the chosen list with codes_validate_icd10. Each code says whether it is valid for clinical use, ' +
      'valid as the primary code, an asterisk or dagger code, and any age or sex it is limited to.',
    input: searchInput,
    output: z.object({ codes: z.array(icd10Out), count: z.number().int() }),
    permission: 'codes:read',
    annotations: READ_ONLY,
    phi: false,
    examples: [
      { description: 'By words', parameters: { query: 'chest pain', limit: 5 } },
      {
        description: 'By code prefix, usable codes only',
        parameters: { query: 'S06', clinical_use_only: true },
      },
    ],
    async handler(input) {
      const codes = await deps.api.searchIcd10(input.query, {
        limit: input.limit,
        clinicalUseOnly: input.clinical_use_only,
      });
      return { codes: codes.map(icd10Of), count: codes.length };
    },
  });

  const validateIcd10 = defineTool({
    name: 'codes_validate_icd10',
    title: 'Check ICD-10 codes for a claim',
    description:
      'Checks a list of ICD-10 codes (primary code first) against the South African coding rules before ' +
      'an order, report or claim uses them: each code exists and is valid for clinical use; the primary ' +
      'is valid as primary (not an asterisk or external-cause code); an asterisk code directly follows a ' +
      "dagger code; an injury code (S00-T98) comes with an external-cause code (V01-Y98); the patient's " +
      'age and sex fit; the code is in force on the service date. Returns every problem with a message ' +
      'saying how to fix it; valid is true when there are none.',
    input: validateInput,
    output: z.object({
      valid: z.boolean(),
      service_date: z.string(),
      codes: z.array(
        z.object({
          position: z.number().int(),
          code: z.string().describe('As normalised (r074 → R07.4)'),
          description: z.string().nullable().describe('Null when the code is not in the table'),
        }),
      ),
      problems: z.array(problemOut),
    }),
    permission: 'codes:read',
    annotations: READ_ONLY,
    phi: false,
    examples: [
      {
        description: 'A head injury after a fall, adult man',
        parameters: { codes: ['S06.0', 'W19'], patient_sex: 'M', patient_age_years: 42 },
      },
      {
        description: 'Chest pain on a given service date',
        parameters: { codes: ['R07.4'], service_date: '2026-03-02' },
      },
    ],
    async handler(input) {
      const serviceDate = input.service_date ?? (await dayOf(deps));
      const problems = await deps.api.validateIcd10(input.codes, {
        asOf: serviceDate,
        ...(input.patient_sex ? { patientSex: input.patient_sex } : {}),
        ...(input.patient_age_years !== undefined ? { patientAgeYears: input.patient_age_years } : {}),
      });
      const normalised = input.codes.map(normaliseIcd10);
      const known = await findIcd10(deps.db, normalised);
      return {
        valid: problems.length === 0,
        service_date: serviceDate,
        codes: normalised.map((code, i) => ({
          position: i + 1,
          code,
          description: known.get(code)?.description ?? null,
        })),
        problems,
      };
    },
  });

  const listTariffItems = defineTool({
    name: 'codes_list_tariff_items',
    title: 'List tariff items',
    description:
      'Lists radiology tariff item and modifier codes in force on a day (default today), by the start of ' +
      'a code or words of the description, optionally for one modality or kind; with `table` (a tariff ' +
      'table id such as "demo") each item also carries its price in that table on that day (ZAR). Use it ' +
      'to find the code to bill for a procedure. Items marked demo are invented for the demo, not a ' +
      'published tariff.',
    input: listTariffInput,
    output: z.object({
      as_of: z.string(),
      table: z.string().nullable(),
      items: z.array(tariffItemOut),
      count: z.number().int(),
    }),
    permission: 'codes:read',
    annotations: READ_ONLY,
    phi: false,
    examples: [
      { description: 'CT items with demo prices', parameters: { modality: 'CT', table: 'demo' } },
      { description: 'By description on a day', parameters: { query: 'ultrasound', as_of: '2026-03-02' } },
    ],
    async handler(input) {
      const asOf = input.as_of ?? (await dayOf(deps));
      if (input.table) {
        const tables = await tariffTableIds(deps.db);
        if (!tables.includes(input.table)) {
          throw invalidField(
            'table',
            `there is no tariff table "${input.table}"; tables: ${tables.join(', ') || '(none loaded)'}`,
          );
        }
      }
      const hits = await searchTariffItems(deps.db, {
        query: input.query,
        modality: input.modality,
        kind: input.kind,
        on: asOf,
        table: input.table,
        limit: input.limit,
      });
      return { as_of: asOf, table: input.table ?? null, items: hits.map(tariffOf), count: hits.length };
    },
  });

  return [searchIcd10, validateIcd10, listTariffItems];
}
