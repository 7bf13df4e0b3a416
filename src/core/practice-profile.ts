/**
 * The practice profile: name, BHF practice number, address, contact, VAT registration, working week, time
 * zone and logo, as every document the practice issues shows them. Practice-wide, so it lives in core
 * (table `core.practice_profile`, one row, migration 0017) and any module reads it with
 * `readPracticeProfile(deps.database.db)`; the admin module's tools change it.
 *
 * The time zone is not a column of the profile: it is `core.instance_settings.time_zone`, the one row
 * `PracticeZone` reads. The profile reads and writes that row, and whoever changes it calls
 * `PracticeZone.invalidate()` once the change has committed (`afterCallCommit`), so that it is seen at once.
 */
import { type Generated, type Kysely, sql } from 'kysely';
import { isTimeZone } from './practice-time.js';

/** The nine provinces, as addresses spell them. */
export const SA_PROVINCES = [
  'Eastern Cape',
  'Free State',
  'Gauteng',
  'KwaZulu-Natal',
  'Limpopo',
  'Mpumalanga',
  'North West',
  'Northern Cape',
  'Western Cape',
] as const;
export type Province = (typeof SA_PROVINCES)[number];

/** BHF PCNS practice number: 7 digits. The BHF publishes no check digit, so the shape is all that is checked. */
export const PRACTICE_NUMBER = /^[0-9]{7}$/;
/** SARS VAT registration number: 10 digits, the first a 4. */
export const VAT_NUMBER = /^4[0-9]{9}$/;
export const LOGO_MEDIA_TYPES = ['image/png', 'image/svg+xml'] as const;
export type LogoMediaType = (typeof LOGO_MEDIA_TYPES)[number];
/** The largest logo kept (bytes): a document logo, not a photograph. The table refuses more too. */
export const MAX_LOGO_BYTES = 256 * 1024;

export interface PracticeLogo {
  mediaType: LogoMediaType;
  /** Present only when asked for (`includeLogo`). */
  bytes?: Uint8Array;
  size: number;
}

export interface PracticeProfile {
  name: string | null;
  practiceNumber: string | null;
  addressLine1: string | null;
  addressLine2: string | null;
  suburb: string | null;
  city: string | null;
  province: Province | null;
  postalCode: string | null;
  phone: string | null;
  email: string | null;
  vatVendor: boolean;
  vatNumber: string | null;
  /** IANA zone, from core.instance_settings. */
  timeZone: string;
  /** ISO weekdays, ascending (1 = Monday). */
  workingWeek: number[];
  logo: PracticeLogo | null;
  updatedAt: Date;
  updatedBy: string;
}

/** A partial change: an absent field is kept; null clears a field that may be empty. */
export interface PracticeProfileChange {
  name?: string;
  practiceNumber?: string;
  addressLine1?: string | null;
  addressLine2?: string | null;
  suburb?: string | null;
  city?: string | null;
  province?: Province | null;
  postalCode?: string | null;
  phone?: string | null;
  email?: string | null;
  vatVendor?: boolean;
  vatNumber?: string | null;
  timeZone?: string;
  workingWeek?: number[];
  logo?: { mediaType: LogoMediaType; bytes: Uint8Array } | null;
}

/** Fields a practice should fill in before its documents go out. */
const REQUIRED_FOR_DOCUMENTS = ['name', 'practiceNumber', 'addressLine1', 'city', 'phone'] as const;

type ProfileRow = {
  singleton: boolean;
  name: string | null;
  practice_number: string | null;
  address_line1: string | null;
  address_line2: string | null;
  suburb: string | null;
  city: string | null;
  province: string | null;
  postal_code: string | null;
  phone: string | null;
  email: string | null;
  vat_vendor: boolean;
  vat_number: string | null;
  working_week: number[];
  logo: Uint8Array | null;
  logo_media_type: string | null;
  updated_at: Date;
  updated_by: string;
};

type ProfileTables = {
  'core.practice_profile': ProfileRow;
  'core.instance_settings': { key: string; value: unknown; updated_at: Generated<Date> };
};

const DEFAULT_TIME_ZONE = 'Africa/Johannesburg';

// biome-ignore lint/suspicious/noExplicitAny: narrowed to the two core tables above
function profileDb(db: Kysely<any>): Kysely<ProfileTables> {
  return db.withTables<ProfileTables>();
}

/** The practice profile with the practice's time zone; the logo's bytes only when asked for. */
export async function readPracticeProfile(
  // biome-ignore lint/suspicious/noExplicitAny: any database handle; only core's tables are read
  db: Kysely<any>,
  options: { includeLogo?: boolean } = {},
): Promise<PracticeProfile> {
  const row = await profileDb(db)
    .selectFrom('core.practice_profile as p')
    .leftJoin('core.instance_settings as s', (join) => join.on('s.key', '=', 'time_zone'))
    .select([
      'p.name',
      'p.practice_number',
      'p.address_line1',
      'p.address_line2',
      'p.suburb',
      'p.city',
      'p.province',
      'p.postal_code',
      'p.phone',
      'p.email',
      'p.vat_vendor',
      'p.vat_number',
      'p.working_week',
      'p.logo_media_type',
      sql<number | null>`octet_length(p.logo)`.as('logo_size'),
      'p.updated_at',
      'p.updated_by',
      's.value as time_zone',
    ])
    .$if(options.includeLogo === true, (q) => q.select('p.logo'))
    .executeTakeFirstOrThrow();
  const logoBytes = (row as { logo?: Uint8Array | null }).logo;
  return {
    name: row.name,
    practiceNumber: row.practice_number,
    addressLine1: row.address_line1,
    addressLine2: row.address_line2,
    suburb: row.suburb,
    city: row.city,
    province: row.province as Province | null,
    postalCode: row.postal_code,
    phone: row.phone,
    email: row.email,
    vatVendor: row.vat_vendor,
    vatNumber: row.vat_number,
    timeZone: typeof row.time_zone === 'string' ? row.time_zone : DEFAULT_TIME_ZONE,
    workingWeek: row.working_week.map(Number),
    logo:
      row.logo_media_type === null
        ? null
        : {
            mediaType: row.logo_media_type as LogoMediaType,
            size: Number(row.logo_size ?? 0),
            ...(logoBytes ? { bytes: new Uint8Array(logoBytes) } : {}),
          },
    updatedAt: new Date(row.updated_at),
    updatedBy: row.updated_by,
  };
}

/** What a practice still has to fill in before its documents are complete (profile field names). */
export function missingForDocuments(profile: PracticeProfile): (typeof REQUIRED_FOR_DOCUMENTS)[number][] {
  return REQUIRED_FOR_DOCUMENTS.filter((field) => profile[field] === null);
}

/** Thrown for a change that would leave the profile inconsistent; `field` is the input to fix. */
export class PracticeProfileError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'PracticeProfileError';
  }
}

/**
 * Applies a partial change in the caller's transaction (the row is locked first, so two changes do not
 * interleave) and returns the names of the fields that changed. Turning `vatVendor` off clears the VAT
 * number; a VAT number needs `vatVendor`. The caller that changes the time zone must invalidate the
 * `PracticeZone` afterwards.
 */
export async function updatePracticeProfile(
  // biome-ignore lint/suspicious/noExplicitAny: any database handle; only core's tables are written
  db: Kysely<any>,
  change: PracticeProfileChange,
  updatedBy: string,
): Promise<string[]> {
  const core = profileDb(db);
  const current = await core
    .selectFrom('core.practice_profile')
    .select(['vat_vendor', 'vat_number'])
    .forUpdate()
    .executeTakeFirstOrThrow();
  const vatVendor = change.vatVendor ?? current.vat_vendor;
  let vatNumber = change.vatNumber !== undefined ? change.vatNumber : current.vat_number;
  if (change.vatVendor === false && change.vatNumber === undefined) vatNumber = null;
  if (vatVendor && vatNumber === null)
    throw new PracticeProfileError(
      'vat_number',
      'is required for a VAT vendor: give the 10-digit SARS VAT number (starting with 4)',
    );
  if (!vatVendor && vatNumber !== null)
    throw new PracticeProfileError(
      'vat_vendor',
      'must be true to record a VAT number (or leave vat_number out for a practice not registered for VAT)',
    );
  if (change.timeZone !== undefined && !isTimeZone(change.timeZone))
    throw new PracticeProfileError('time_zone', `"${change.timeZone}" is not an IANA time zone`);

  const set: Partial<ProfileRow> = {};
  const changed: string[] = [];
  const put = <K extends keyof ProfileRow>(column: K, value: ProfileRow[K] | undefined, field: string) => {
    if (value === undefined) return;
    set[column] = value;
    changed.push(field);
  };
  put('name', change.name, 'name');
  put('practice_number', change.practiceNumber, 'practice_number');
  put('address_line1', change.addressLine1, 'address_line1');
  put('address_line2', change.addressLine2, 'address_line2');
  put('suburb', change.suburb, 'suburb');
  put('city', change.city, 'city');
  put('province', change.province, 'province');
  put('postal_code', change.postalCode, 'postal_code');
  put('phone', change.phone, 'phone');
  put('email', change.email, 'email');
  if (change.vatVendor !== undefined) put('vat_vendor', vatVendor, 'vat_vendor');
  if (vatNumber !== current.vat_number || change.vatNumber !== undefined)
    put('vat_number', vatNumber, 'vat_number');
  if (change.workingWeek !== undefined)
    put(
      'working_week',
      [...new Set(change.workingWeek)].sort((a, b) => a - b),
      'working_week',
    );
  if (change.logo !== undefined) {
    set.logo = change.logo ? Buffer.from(change.logo.bytes) : null;
    set.logo_media_type = change.logo ? change.logo.mediaType : null;
    changed.push('logo');
  }
  if (changed.length > 0) {
    await core
      .updateTable('core.practice_profile')
      .set({ ...set, updated_at: sql<Date>`now()`, updated_by: updatedBy })
      .where('singleton', '=', true)
      .execute();
  }
  if (change.timeZone !== undefined) {
    await core
      .insertInto('core.instance_settings')
      .values({ key: 'time_zone', value: sql`to_jsonb(${change.timeZone}::text)` })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({ value: sql`excluded.value`, updated_at: sql<Date>`now()` }),
      )
      .execute();
    changed.push('time_zone');
  }
  return changed;
}
