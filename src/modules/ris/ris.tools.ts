/** RIS records: patients, orders, referring physicians. Scheduling and status are in ris.schedule.tools.ts. */

import { z } from 'zod';
import { READ_ONLY, WRITE } from '../../core/annotations.js';
import { invalidField, ToolError } from '../../core/errors.js';
import { localParts } from '../../core/practice-time.js';
import type { AnyTool } from '../../core/tool.js';
import { defineTool } from '../../core/tool.js';
import { sqlState } from '../../db/sql-helpers.js';
import { actorOf, orderInScope, patientInScope, type RisDeps } from './ris.access.js';
import { appointmentsForPatient, latestAppointmentFor, statusHistory } from './ris.appointments.store.js';
import { closureTools } from './ris.closures.tools.js';
import { checkDiagnosisCodes } from './ris.diagnosis.js';
import { insertOrder, ordersForPatient } from './ris.orders.store.js';
import { appointmentOut, orderOut, patientOut, physicianOut, statusChangeOut } from './ris.output.js';
import { findPatientIdBySaId, insertPatient, searchPatients } from './ris.patients.store.js';
import { physicianNotFound, procedureNotFound } from './ris.reference.checks.js';
import { getPhysician, getProcedure } from './ris.reference.store.js';
import { referenceTools } from './ris.reference.tools.js';
import { scheduleTools } from './ris.schedule.tools.js';
import {
  accessionNumber,
  createOrderInput,
  getOrderOutput,
  getPatientOutput,
  getPhysicianInput,
  orderSchema,
  patientId,
  patientSchema,
  physicianSchema,
  registerPatientInput,
  searchPatientsInput,
} from './ris.schemas.js';

export function risTools(deps: RisDeps): AnyTool[] {
  return [...recordTools(deps), ...scheduleTools(deps), ...closureTools(deps), ...referenceTools(deps)];
}

function recordTools(deps: RisDeps): AnyTool[] {
  const searchPatientsTool = defineTool({
    name: 'ris_search_patients',
    title: 'Search RIS patients',
    description:
      'Finds registered patients by patient_id, patient_name (family name prefix, or DICOM Family^Given), ' +
      'birth_date, SA ID number or medical aid number. Use it before registering someone (to avoid ' +
      'duplicates) and to find the patient_id for an order. Referring doctors only see their own patients.',
    input: searchPatientsInput,
    output: z.object({ patients: z.array(patientSchema), count: z.number().int() }),
    permission: 'ris:read',
    annotations: READ_ONLY,
    phi: true,
    examples: [
      {
        description: 'By name and date of birth',
        parameters: { patient_name: 'Dlamini^T', birth_date: '1984-02-29' },
      },
      { description: 'By MRN', parameters: { patient_id: 'UPC000123' } },
    ],
    async handler(input, ctx) {
      // Searching by a value the role may not see would reveal it, one guess at a time.
      for (const [field, kind] of [
        ['sa_id_number', 'national_id'],
        ['medical_aid_number', 'member_number'],
      ] as const) {
        if (input[field] !== undefined && !ctx.mayView(kind))
          throw new ToolError(
            'FORBIDDEN',
            `Your role may not see ${field === 'sa_id_number' ? 'SA ID numbers' : 'medical aid numbers'}, so it may not search by them. Search by name and date of birth instead.`,
            { field },
          );
      }
      const [family, given] = (input.patient_name ?? '').replace(/\*+$/, '').split('^');
      const patients = await searchPatients(
        deps.db,
        {
          ...(input.patient_id ? { patientId: input.patient_id } : {}),
          ...(family ? { familyNamePrefix: family } : {}),
          ...(given ? { givenNamePrefix: given.replace(/\*+$/, '') } : {}),
          ...(input.birth_date ? { birthDate: input.birth_date } : {}),
          ...(input.sa_id_number ? { saIdNumber: input.sa_id_number } : {}),
          ...(input.medical_aid_number ? { medicalAidNumber: input.medical_aid_number } : {}),
          limit: input.limit,
        },
        await ctx.patientScope(),
      );
      ctx.touchPatients(...patients.map((p) => p.patientId));
      return { patients: patients.map(patientOut), count: patients.length };
    },
  });

  const getPatientTool = defineTool({
    name: 'ris_get_patient',
    title: 'Get a RIS patient with orders and appointments',
    description:
      "One patient's demographics, medical aid, orders and appointments (newest first). Use it for a " +
      'patient summary or before scheduling. OUT_OF_SCOPE for a referring doctor asking about another patient.',
    input: z.object({ patient_id: patientId }),
    output: getPatientOutput,
    permission: 'ris:read',
    annotations: READ_ONLY,
    phi: true,
    examples: [{ description: 'Summary', parameters: { patient_id: 'UPC000123' } }],
    async handler(input, ctx) {
      const patient = await patientInScope(deps, ctx, input.patient_id);
      const tz = await deps.timeZone();
      const [orders, appointments] = await Promise.all([
        ordersForPatient(deps.db, patient.patientId),
        appointmentsForPatient(deps.db, patient.patientId),
      ]);
      return {
        patient: patientOut(patient),
        orders: orders.map((o) => orderOut(o, tz)),
        appointments: appointments.map((a) => appointmentOut(a, tz)),
      };
    },
  });

  const registerPatientTool = defineTool({
    name: 'ris_register_patient',
    title: 'Register a patient',
    description:
      'Registers a new patient and issues their patient_id (MRN, e.g. UPC100001). The SA ID number is ' +
      'checked (date of birth, sex, Luhn check digit). Search first: an SA ID already on file answers ' +
      'CONFLICT with the existing patient_id.',
    input: registerPatientInput,
    output: z.object({ patient: patientSchema }),
    permission: 'ris:register',
    annotations: WRITE,
    phi: true,
    examples: [
      {
        description: 'A patient with a medical aid',
        parameters: {
          family_name: 'Dlamini',
          given_names: 'Thandiwe',
          birth_date: '1984-02-29',
          sex: 'F',
          sa_id_number: '8402290123082',
          phone: '+27 82 555 0123',
          medical_aid_scheme: 'Discovery Health',
          medical_aid_number: 'DH123456789',
        },
      },
    ],
    async handler(input, ctx) {
      if (input.birth_date > localParts(deps.now(), await deps.timeZone()).date)
        throw invalidField('birth_date', 'must not be in the future');
      if (input.sa_id_number) await refuseDuplicateId(deps, input.sa_id_number);
      let id: string;
      try {
        id = await insertPatient(deps.db, {
          familyName: input.family_name,
          givenNames: input.given_names,
          birthDate: input.birth_date,
          sex: input.sex,
          phone: input.phone,
          email: input.email,
          saIdNumber: input.sa_id_number,
          medicalAidScheme: input.medical_aid_scheme,
          medicalAidNumber: input.medical_aid_number,
          createdBy: ctx.principal.subject,
        });
      } catch (error) {
        // Two registrations of one ID at once: the unique constraint decides, the loser hears who won.
        if (sqlState(error) === '23505' && input.sa_id_number)
          await refuseDuplicateId(deps, input.sa_id_number);
        throw error;
      }
      ctx.touchPatients(id);
      return { patient: patientOut(await patientInScope(deps, ctx, id)) };
    },
  });

  const createOrderTool = defineTool({
    name: 'ris_create_order',
    title: 'Create an imaging order',
    description:
      'Creates an imaging order (request) for a registered patient: procedure (tariff) code, clinical ' +
      'indication, at least one ICD-10 code, priority (routine, urgent or stat) and the referring ' +
      "physician's practice number. The system issues the accession number that ties the order to its " +
      'appointment, images, report and invoice. Then book it with ris_schedule_appointment.',
    input: createOrderInput,
    output: z.object({ order: orderSchema }),
    permission: 'ris:order',
    annotations: WRITE,
    phi: true,
    examples: [
      {
        description: 'Urgent CT head',
        parameters: {
          patient_id: 'UPC000123',
          procedure_code: '3011',
          clinical_indication: 'Fall with head injury, on warfarin',
          icd10_codes: ['S06.0', 'W19'],
          priority: 'urgent',
          referring_practice_number: '0123456',
        },
      },
    ],
    async handler(input, ctx) {
      const patient = await patientInScope(deps, ctx, input.patient_id);
      await checkDiagnosisCodes(deps, input.icd10_codes, patient);
      const procedure = await getProcedure(deps.db, input.procedure_code);
      if (!procedure) throw await procedureNotFound(deps.db, input.procedure_code);
      if (input.modality && input.modality !== procedure.modality) {
        const message = `is ${input.modality}, but procedure ${procedure.procedureCode} (${procedure.description}) is ${procedure.modality}`;
        throw invalidField('modality', message);
      }
      const physician = await getPhysician(deps.db, { practiceNumber: input.referring_practice_number });
      if (!physician?.active)
        throw await physicianNotFound(deps.db, input.referring_practice_number, physician);
      const accession = await insertOrder(deps.db, {
        patientId: input.patient_id,
        procedureCode: procedure.procedureCode,
        modality: procedure.modality,
        clinicalIndication: input.clinical_indication,
        icd10Codes: input.icd10_codes,
        priority: input.priority,
        referringPhysicianId: physician.physicianId,
        createdBy: actorOf(ctx).subject,
      });
      const order = await orderInScope(deps, ctx, accession);
      return { order: orderOut(order, await deps.timeZone()) };
    },
  });

  const getOrderTool = defineTool({
    name: 'ris_get_order',
    title: 'Get an order',
    description:
      'One imaging order by accession number, with its patient, current appointment and the full status ' +
      'history (who changed what, when). Use it to answer "where is this study at?".',
    input: z.object({ accession_number: accessionNumber }),
    output: getOrderOutput,
    permission: 'ris:read',
    annotations: READ_ONLY,
    phi: true,
    examples: [{ description: 'One order', parameters: { accession_number: 'ACC00000123' } }],
    async handler(input, ctx) {
      const order = await orderInScope(deps, ctx, input.accession_number);
      const tz = await deps.timeZone();
      const patient = await patientInScope(deps, ctx, order.patientId);
      const appointment = await latestAppointmentFor(deps.db, order.accessionNumber);
      const history = appointment ? await statusHistory(deps.db, appointment.appointmentId) : [];
      return {
        order: orderOut(order, tz),
        patient: patientOut(patient),
        appointment: appointment ? appointmentOut(appointment, tz) : null,
        status_history: history.map((c) => statusChangeOut(c, tz)),
      };
    },
  });

  const getPhysicianTool = defineTool({
    name: 'ris_get_referring_physician',
    title: 'Get a referring physician',
    description:
      'Looks up a referring physician by practice number or HPCSA registration number: name and contact ' +
      'details. Use it to check a practice number before creating an order or to contact the referrer.',
    input: getPhysicianInput,
    output: z.object({ physician: physicianSchema }),
    permission: 'ris:read',
    annotations: READ_ONLY,
    phi: false,
    examples: [{ description: 'By practice number', parameters: { practice_number: '0123456' } }],
    async handler(input) {
      const by = input.practice_number
        ? { practiceNumber: input.practice_number }
        : { hpcsaNumber: input.hpcsa_number ?? '' };
      const physician = await getPhysician(deps.db, by);
      if (!physician)
        throw new ToolError('NOT_FOUND', 'No referring physician with that number.', { ...input });
      return { physician: physicianOut(physician) };
    },
  });

  return [
    searchPatientsTool,
    getPatientTool,
    registerPatientTool,
    createOrderTool,
    getOrderTool,
    getPhysicianTool,
  ];
}

async function refuseDuplicateId(deps: RisDeps, saIdNumber: string): Promise<void> {
  const existing = await findPatientIdBySaId(deps.db, saIdNumber);
  if (existing) {
    throw new ToolError(
      'CONFLICT',
      `This SA ID number is already registered as patient ${existing}. Use that patient_id instead of registering again.`,
      { patient_id: existing },
    );
  }
}
