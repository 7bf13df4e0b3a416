/** The practice profile as tools: every staff role reads it (documents show it), an administrator edits it. */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { READ_ONLY } from '../../core/annotations.js';
import { invalidField } from '../../core/errors.js';
import {
  LOGO_MEDIA_TYPES,
  type LogoMediaType,
  MAX_LOGO_BYTES,
  missingForDocuments,
  PRACTICE_NUMBER,
  type PracticeProfile,
  type PracticeProfileChange,
  PracticeProfileError,
  readPracticeProfile,
  SA_PROVINCES,
  updatePracticeProfile,
  VAT_NUMBER,
} from '../../core/practice-profile.js';
import { isTimeZone, type PracticeZone, toZonedIso } from '../../core/practice-time.js';
import { defineTool } from '../../core/tool.js';
import { afterCallCommit } from '../../db/call-transaction.js';

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

const line = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

const profileSchema = z.object({
  name: z.string().nullable(),
  practice_number: z.string().nullable().describe('BHF PCNS practice number (7 digits)'),
  address_line1: z.string().nullable(),
  address_line2: z.string().nullable(),
  suburb: z.string().nullable(),
  city: z.string().nullable(),
  province: z.enum(SA_PROVINCES).nullable(),
  postal_code: z.string().nullable(),
  phone: z.string().nullable(),
  email: z.string().nullable(),
  vat_vendor: z.boolean(),
  vat_number: z.string().nullable().describe('SARS VAT number (10 digits, starting with 4)'),
  time_zone: z.string().describe('IANA time zone every time is shown in'),
  working_week: z.array(z.number().int()).describe('ISO weekdays the practice works, 1 = Monday'),
  working_days: z.array(z.enum(WEEKDAYS)),
  logo: z
    .object({
      media_type: z.enum(LOGO_MEDIA_TYPES),
      size_bytes: z.number().int(),
      data_base64: z.string().optional().describe('Only with include_logo'),
    })
    .nullable(),
  updated_at: z.string().describe('ISO-8601 with the practice offset'),
  updated_by: z.string(),
});

const getOutput = z.object({
  profile: profileSchema,
  missing: z
    .array(z.string())
    .describe('Fields to fill in (admin_update_practice_profile) before documents are complete'),
});

const updateInput = z
  .object({
    name: line(120).optional(),
    practice_number: z
      .string()
      .trim()
      .regex(PRACTICE_NUMBER, 'must be the 7-digit BHF (PCNS) practice number, e.g. 0381234')
      .optional(),
    address_line1: line(120).nullable().optional(),
    address_line2: line(120).nullable().optional(),
    suburb: line(80).nullable().optional(),
    city: line(80).nullable().optional(),
    province: z
      .enum(SA_PROVINCES, { error: `must be one of ${SA_PROVINCES.join(', ')}` })
      .nullable()
      .optional(),
    postal_code: z
      .string()
      .trim()
      .regex(/^[0-9]{4}$/, 'must be a 4-digit South African postal code, e.g. 2196')
      .nullable()
      .optional(),
    phone: z
      .string()
      .trim()
      .regex(/^\+?[0-9][0-9 ]{8,18}$/, 'must be a phone number such as +27 11 555 0100 or 0115550100')
      .nullable()
      .optional(),
    email: z.email('must be an e-mail address').max(254).nullable().optional(),
    vat_vendor: z.boolean().optional().describe('Whether the practice is registered for VAT with SARS'),
    vat_number: z
      .string()
      .trim()
      .regex(VAT_NUMBER, 'must be the 10-digit SARS VAT number starting with 4, e.g. 4123456789')
      .nullable()
      .optional(),
    time_zone: z
      .string()
      .trim()
      .refine(isTimeZone, 'must be an IANA time zone such as Africa/Johannesburg')
      .optional()
      .describe('Every time is shown and read in this zone from the next call on'),
    working_week: z
      .array(
        z
          .number()
          .int()
          .min(1, 'must be 1 (Monday) to 7 (Sunday)')
          .max(7, 'must be 1 (Monday) to 7 (Sunday)'),
      )
      .min(1, 'must name at least one working day')
      .max(7)
      .refine((days) => new Set(days).size === days.length, 'must not repeat a day')
      .optional()
      .describe('ISO weekdays, 1 = Monday ... 7 = Sunday'),
    logo: z
      .object({
        media_type: z.enum(LOGO_MEDIA_TYPES, { error: 'must be image/png or image/svg+xml' }),
        data_base64: z
          .string()
          .min(1)
          .max(Math.ceil(MAX_LOGO_BYTES / 3) * 4 + 1024, `must be at most ${MAX_LOGO_BYTES / 1024} KiB`),
      })
      .nullable()
      .optional()
      .describe(`A PNG or SVG of at most ${MAX_LOGO_BYTES / 1024} KiB for documents; null removes it`),
  })
  .refine((input) => Object.values(input).some((value) => value !== undefined), {
    message: 'give at least one field to change',
  });

const updateOutput = getOutput.extend({
  updated: z.array(z.string()).describe('The fields this call set'),
});

/** The profile tools: reading for every staff role (`practice:read`), changing for administrators. */
export function practiceTools(db: Kysely<unknown>, zone: PracticeZone) {
  const get = defineTool({
    name: 'admin_get_practice_profile',
    title: 'Get the practice profile',
    description:
      "The practice's name, BHF practice number, address, phone, e-mail, VAT registration, working week, " +
      'time zone and logo, as documents (reports, invoices, letters) show them, and which fields are still ' +
      'missing. include_logo adds the logo itself (base64).',
    input: z.object({
      include_logo: z.boolean().default(false).describe('Add the logo bytes (base64); default false'),
    }),
    output: getOutput,
    permission: 'practice:read',
    annotations: READ_ONLY,
    phi: false,
    examples: [{ description: 'The profile', parameters: {} }],
    async handler(input) {
      const profile = await readPracticeProfile(db, { includeLogo: input.include_logo });
      return { profile: profileOut(profile), missing: missingOut(profile) };
    },
  });

  const update = defineTool({
    name: 'admin_update_practice_profile',
    title: 'Update the practice profile',
    description:
      'Changes the fields given and keeps the rest (null clears an optional field). The practice number is ' +
      'the 7-digit BHF number; a VAT vendor needs its 10-digit SARS VAT number (starting with 4), and ' +
      'vat_vendor false clears it. A new time_zone applies to every time shown or read from the next call.',
    input: updateInput,
    output: updateOutput,
    permission: 'practice:write',
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    phi: false,
    examples: [
      {
        description: 'Contact details',
        parameters: { phone: '+27 11 555 0100', email: 'info@example.co.za' },
      },
      { description: 'Registered for VAT', parameters: { vat_vendor: true, vat_number: '4123456789' } },
    ],
    async handler(input, ctx) {
      const change: PracticeProfileChange = {
        name: input.name,
        practiceNumber: input.practice_number,
        addressLine1: input.address_line1,
        addressLine2: input.address_line2,
        suburb: input.suburb,
        city: input.city,
        province: input.province,
        postalCode: input.postal_code,
        phone: input.phone,
        email: input.email,
        vatVendor: input.vat_vendor,
        vatNumber: input.vat_number,
        timeZone: input.time_zone === undefined ? undefined : canonicalZone(input.time_zone),
        workingWeek: input.working_week,
        logo: input.logo === undefined ? undefined : input.logo && logoOf(input.logo),
      };
      let updated: string[];
      try {
        updated = await updatePracticeProfile(db, change, ctx.principal.subject);
      } catch (error) {
        if (error instanceof PracticeProfileError) throw invalidField(error.field, error.message);
        throw error;
      } finally {
        // Read again from the next call on (this call's own transaction commits after it returns).
        // Once the change is committed: a call reading the zone before then would cache the old one again.
        if (change.timeZone !== undefined) afterCallCommit(() => zone.invalidate());
      }
      const profile = await readPracticeProfile(db);
      return { profile: profileOut(profile), missing: missingOut(profile), updated };
    },
  });

  return [get, update];
}

/** "africa/johannesburg" → "Africa/Johannesburg": the spelling Intl resolves. */
function canonicalZone(zone: string): string {
  return new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Decodes and checks a logo: really base64, within the cap, a PNG by its signature, or a harmless SVG. */
function logoOf(logo: { media_type: LogoMediaType; data_base64: string }): {
  mediaType: LogoMediaType;
  bytes: Uint8Array;
} {
  const field = 'logo.data_base64';
  const compact = logo.data_base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0)
    throw invalidField(field, 'is not base64');
  const bytes = Buffer.from(compact, 'base64');
  if (bytes.byteLength > MAX_LOGO_BYTES)
    throw invalidField(
      field,
      `is ${Math.ceil(bytes.byteLength / 1024)} KiB; a logo may be at most ${MAX_LOGO_BYTES / 1024} KiB`,
    );
  if (logo.media_type === 'image/png') {
    if (!PNG_SIGNATURE.every((byte, i) => bytes[i] === byte))
      throw invalidField(field, 'is not a PNG image (it lacks the PNG signature)');
    return { mediaType: logo.media_type, bytes };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalidField(field, 'is not an SVG image (not UTF-8 text)');
  }
  if (!/<svg[\s>]/i.test(text)) throw invalidField(field, 'is not an SVG image (no <svg> element)');
  // Documents embed the logo: an SVG that can run code or pull in other content is refused.
  if (/<script|<foreignObject|javascript:|\son[a-z]+\s*=|<!ENTITY/i.test(text))
    throw invalidField(
      field,
      'is an SVG with scripts, event handlers or embedded content; export a plain SVG',
    );
  return { mediaType: logo.media_type, bytes };
}

function profileOut(p: PracticeProfile): z.input<typeof profileSchema> {
  return {
    name: p.name,
    practice_number: p.practiceNumber,
    address_line1: p.addressLine1,
    address_line2: p.addressLine2,
    suburb: p.suburb,
    city: p.city,
    province: p.province,
    postal_code: p.postalCode,
    phone: p.phone,
    email: p.email,
    vat_vendor: p.vatVendor,
    vat_number: p.vatNumber,
    time_zone: p.timeZone,
    working_week: p.workingWeek,
    working_days: p.workingWeek.map((day) => WEEKDAYS[day - 1]!),
    logo: p.logo
      ? {
          media_type: p.logo.mediaType,
          size_bytes: p.logo.size,
          ...(p.logo.bytes ? { data_base64: Buffer.from(p.logo.bytes).toString('base64') } : {}),
        }
      : null,
    updated_at: toZonedIso(p.updatedAt, p.timeZone),
    updated_by: p.updatedBy,
  };
}

const FIELD_NAMES: Record<string, string> = {
  name: 'name',
  practiceNumber: 'practice_number',
  addressLine1: 'address_line1',
  city: 'city',
  phone: 'phone',
};

function missingOut(p: PracticeProfile): string[] {
  return missingForDocuments(p).map((field) => FIELD_NAMES[field] ?? field);
}
