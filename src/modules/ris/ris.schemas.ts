import { z } from 'zod';
import { ICD10_PATTERN, saIdMatchesBirthDate, saIdProblem, saIdSex } from './ris.rules.js';
import { PRIORITIES, SEXES, STUDY_STATUSES } from './ris.tables.js';

// ---------------------------------------------------------------------------------------------------------
// Field schemas: one precise definition per field, with a message that says what is expected.
// ---------------------------------------------------------------------------------------------------------

export const patientId = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9]{3,16}$/, 'must be 3-16 letters or digits, e.g. UPC000123');
export const accessionNumber = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9]{1,16}$/, 'must be 1-16 letters or digits, e.g. ACC00000123');
export const modality = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z]{2,3}$/, 'must be a DICOM modality code such as CT, MR, CR, US or MG');
export const room = z.string().trim().min(1, 'must name a room, e.g. CT-1').max(32);
export const isoDate = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, {
    message: 'must be a date YYYY-MM-DD',
    abort: true,
  })
  .refine((text) => isRealDateTime(`${text}T00:00`), {
    message: 'is not a real date (that month has fewer days)',
  })
  .meta({ format: 'date' });
export const callerTime = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?([zZ]|[+-]\d{2}:?\d{2})?$/,
    'must be ISO-8601 like 2026-03-02T10:30+02:00 (without an offset it is read as practice local time)',
  )
  .refine(isRealDateTime, { message: 'is not a real date and time' });

function isRealDateTime(text: string): boolean {
  const [y, mo, d, h, mi, s = 0] = (text.match(/\d+/g) ?? []).map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!));
  return date.getUTCMonth() === mo! - 1 && date.getUTCDate() === d && h! < 24 && mi! < 60 && s < 60;
}
export const status = z.enum(STUDY_STATUSES, {
  error: `must be one of ${STUDY_STATUSES.join(', ')}`,
});
export const priority = z.enum(PRIORITIES, { error: 'must be stat, urgent or routine' });
export const icd10Code = z
  .string()
  .trim()
  .toUpperCase()
  .regex(ICD10_PATTERN, 'must be an ICD-10 code such as R10.4 or S82.101A');
const phone = z
  .string()
  .trim()
  .regex(/^\+?[0-9][0-9 ]{8,15}$/, 'must be a phone number such as +27 82 555 0123 or 0825550123');
const personName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64)
  .regex(/^[^^\\=]+$/, 'must not contain ^, \\ or =');

/** Zoned instant in outputs: ISO-8601 with an explicit offset (practice time zone). */
const zonedTime = z.string().describe('ISO-8601 with the practice offset, e.g. 2026-03-02T10:30:00+02:00');

// ---------------------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------------------

export const patientSchema = z.object({
  patient_id: z.string(),
  patient_name: z.string().describe('DICOM form Family^Given'),
  family_name: z.string(),
  given_names: z.string(),
  birth_date: z.string().describe('YYYY-MM-DD'),
  sex: z.enum(SEXES),
  phone: z.string().nullable(),
  email: z.string().nullable(),
  sa_id_number: z.string().nullable(),
  medical_aid_scheme: z.string().nullable(),
  medical_aid_number: z.string().nullable(),
});

export const appointmentSchema = z.object({
  appointment_id: z.number().int(),
  accession_number: z.string(),
  room: z.string(),
  modality: z.string(),
  scheduled_start: zonedTime,
  scheduled_end: zonedTime,
  status,
});

export const statusChangeSchema = z.object({
  from_status: status.nullable(),
  to_status: status,
  changed_by: z.string(),
  changed_by_role: z.string(),
  changed_at: zonedTime,
  note: z.string().nullable(),
});

export const orderSchema = z.object({
  accession_number: z.string(),
  patient_id: z.string(),
  procedure_code: z.string(),
  procedure_description: z.string(),
  modality: z.string(),
  clinical_indication: z.string(),
  icd10_codes: z.array(z.string()),
  priority,
  referring_physician: z.object({
    practice_number: z.string(),
    name: z.string(),
  }),
  created_at: zonedTime,
});

export const physicianSchema = z.object({
  physician_id: z.number().int(),
  practice_number: z.string(),
  hpcsa_number: z.string(),
  title: z.string(),
  family_name: z.string(),
  given_names: z.string(),
  phone: z.string().nullable(),
  email: z.string().nullable(),
});

export const worklistItemSchema = z.object({
  appointment_id: z.number().int(),
  accession_number: z.string(),
  scheduled_start: zonedTime,
  scheduled_end: zonedTime,
  room: z.string(),
  modality: z.string(),
  status,
  priority,
  patient_id: z.string(),
  patient_name: z.string(),
  birth_date: z.string(),
  sex: z.enum(SEXES),
  procedure_code: z.string(),
  study_description: z.string(),
  clinical_indication: z.string(),
  referring_physician: z.string(),
});

// ---------------------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------------------

export const registerPatientInput = z
  .object({
    family_name: personName,
    given_names: personName,
    birth_date: isoDate,
    sex: z.enum(SEXES, { error: 'must be M, F or O' }),
    sa_id_number: z.string().trim().optional(),
    phone: phone.optional(),
    email: z.email('must be an e-mail address').optional(),
    medical_aid_scheme: z.string().trim().min(2).max(64).optional(),
    medical_aid_number: z
      .string()
      .trim()
      .regex(/^[A-Z0-9-]{3,20}$/i, 'must be 3-20 letters, digits or dashes')
      .optional(),
  })
  .superRefine((input, ctx) => {
    if ((input.medical_aid_scheme === undefined) !== (input.medical_aid_number === undefined)) {
      const path = input.medical_aid_scheme === undefined ? 'medical_aid_scheme' : 'medical_aid_number';
      ctx.addIssue({
        code: 'custom',
        path: [path],
        message: 'give both medical_aid_scheme and medical_aid_number, or neither',
      });
    }
    const id = input.sa_id_number;
    if (id === undefined) return;
    const problem = saIdProblem(id);
    if (problem) {
      ctx.addIssue({ code: 'custom', path: ['sa_id_number'], message: problem });
    } else if (!saIdMatchesBirthDate(id, input.birth_date)) {
      ctx.addIssue({
        code: 'custom',
        path: ['sa_id_number'],
        message: `starts with ${id.slice(0, 6)}, which does not match birth_date ${input.birth_date}`,
      });
    } else if (input.sex !== 'O' && saIdSex(id) !== input.sex) {
      ctx.addIssue({
        code: 'custom',
        path: ['sa_id_number'],
        message: `encodes sex ${saIdSex(id)}, but sex is ${input.sex}`,
      });
    }
  });

export const searchPatientsInput = z.object({
  patient_id: patientId.optional(),
  patient_name: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .optional()
    .describe('Family name, or DICOM Family^Given; matches from the start, case-insensitive'),
  birth_date: isoDate.optional(),
  sa_id_number: z
    .string()
    .regex(/^\d{13}$/, 'must be 13 digits')
    .optional(),
  medical_aid_number: z.string().trim().min(1).max(20).optional(),
  limit: z.number().int().min(1).max(200).default(25),
});

export const createOrderInput = z.object({
  patient_id: patientId,
  procedure_code: z.string().trim().min(1, 'must be a procedure (tariff) code, e.g. 3011').max(16),
  modality: modality.optional().describe('Checked against the procedure; optional'),
  clinical_indication: z.string().trim().min(3, 'must describe why the study is needed').max(2000),
  icd10_codes: z
    .array(icd10Code)
    .min(1, 'must hold at least one ICD-10 code')
    .max(12)
    .refine((codes) => new Set(codes).size === codes.length, 'must not repeat a code'),
  priority: priority.default('routine'),
  referring_practice_number: z
    .string()
    .trim()
    .regex(/^[0-9]{7}$/, 'must be the 7-digit practice number of the referring physician'),
});

export const scheduleInput = z.object({
  accession_number: accessionNumber,
  start_time: callerTime
    .optional()
    .describe('Requested start; omitted means the earliest free slot from now'),
  room: room.optional().describe('Limit to one room; omitted means any room of the order modality'),
  if_taken: z
    .enum(['next_free', 'fail'], { error: 'must be next_free or fail' })
    .default('next_free')
    .describe('When the requested time is taken: book the next free slot, or fail with CONFLICT'),
});

export const rescheduleInput = z.object({
  appointment_id: z.number().int().positive(),
  start_time: callerTime,
  room: room.optional(),
  if_taken: z.enum(['next_free', 'fail'], { error: 'must be next_free or fail' }).default('next_free'),
  reason: z.string().trim().min(3).max(500).optional(),
});

export const scheduleOutput = z.object({
  appointment: appointmentSchema,
  patient_id: z.string(),
  requested_start: zonedTime.nullable(),
  moved: z.boolean().describe('True when the requested time was taken and the next free slot was booked'),
  message: z.string(),
});

export const cancelInput = z.object({
  appointment_id: z.number().int().positive(),
  reason: z.string().trim().min(3, 'must say why the appointment is cancelled').max(500),
});

export const updateStatusInput = z.object({
  appointment_id: z.number().int().positive(),
  status: z.enum(
    STUDY_STATUSES.filter((s) => s !== 'CANCELLED'),
    {
      error:
        'must be REGISTERED, IN_PROGRESS, COMPLETED, REPORTED, DELIVERED or NO_SHOW (cancel with ris_cancel_appointment)',
    },
  ),
  note: z.string().trim().max(500).optional(),
  reason: z
    .string()
    .trim()
    .min(3, 'must say why the time rule is overridden')
    .max(500)
    .optional()
    .describe(
      'Administrators only (ris:status_override): lets IN_PROGRESS or COMPLETED happen before the ' +
        "appointment's day; recorded in the status history",
    ),
});

export const statusOutput = z.object({
  appointment: appointmentSchema,
  previous_status: status,
  changed_by: z.string(),
  changed_at: zonedTime,
});

export const worklistInput = z.object({
  date: isoDate.optional().describe('Practice-local day; default today'),
  modality: modality.optional(),
  room: room.optional(),
  status: status.optional(),
  limit: z.number().int().min(1).max(2000).default(500),
});

export const worklistOutput = z.object({
  date: isoDate,
  time_zone: z.string(),
  open: z
    .boolean()
    .describe(
      'Whether any room (of the filtered modality or room) works that day: it has opening hours, and no ' +
        'closure or public holiday closes it (unless the room opens for that holiday)',
    ),
  next_open_date: isoDate
    .optional()
    .describe('On a closed day: the next day a room is open (within a year), to offer instead'),
  closed_notice: z
    .string()
    .optional()
    .describe(
      'On a closed day: a sentence for a person saying why (weekday, public holiday by name, closure)',
    ),
  worklist: z.array(worklistItemSchema),
  count: z.number().int(),
});

export const getOrderOutput = z.object({
  order: orderSchema,
  patient: patientSchema,
  appointment: appointmentSchema.nullable(),
  status_history: z.array(statusChangeSchema),
});

export const getPatientOutput = z.object({
  patient: patientSchema,
  orders: z.array(orderSchema),
  appointments: z.array(appointmentSchema),
});

export const getPhysicianInput = z
  .object({
    practice_number: z
      .string()
      .regex(/^[0-9]{7}$/, 'must be a 7-digit practice number')
      .optional(),
    hpcsa_number: z
      .string()
      .regex(/^MP[0-9]{6,7}$/, 'must be an HPCSA number such as MP0123456')
      .optional(),
  })
  .refine((v) => (v.practice_number === undefined) !== (v.hpcsa_number === undefined), {
    message: 'give exactly one of practice_number or hpcsa_number',
    path: ['practice_number'],
  });
