/** Domain objects → tool outputs: snake_case, DICOM-style names, times with the practice offset. */
import type { z } from 'zod';
import { toZonedIso } from '../../core/practice-time.js';
import type { Appointment, StatusChange } from './ris.appointments.store.js';
import type { Order } from './ris.orders.store.js';
import type { Patient } from './ris.patients.store.js';
import type { Physician } from './ris.reference.store.js';
import type {
  appointmentSchema,
  orderSchema,
  patientSchema,
  physicianSchema,
  statusChangeSchema,
  worklistItemSchema,
} from './ris.schemas.js';
import type { WorklistEntry } from './ris.worklist.store.js';

export function patientOut(p: Patient): z.input<typeof patientSchema> {
  return {
    patient_id: p.patientId,
    patient_name: `${p.familyName}^${p.givenNames}`,
    family_name: p.familyName,
    given_names: p.givenNames,
    birth_date: p.birthDate,
    sex: p.sex,
    phone: p.phone,
    email: p.email,
    sa_id_number: p.saIdNumber,
    medical_aid_scheme: p.medicalAidScheme,
    medical_aid_number: p.medicalAidNumber,
  };
}

export function appointmentOut(a: Appointment, tz: string): z.input<typeof appointmentSchema> {
  return {
    appointment_id: a.appointmentId,
    accession_number: a.accessionNumber,
    room: a.room,
    modality: a.modality,
    scheduled_start: toZonedIso(a.start, tz),
    scheduled_end: toZonedIso(a.end, tz),
    status: a.status,
  };
}

export function orderOut(o: Order, tz: string): z.input<typeof orderSchema> {
  return {
    accession_number: o.accessionNumber,
    patient_id: o.patientId,
    procedure_code: o.procedureCode,
    procedure_description: o.procedureDescription,
    modality: o.modality,
    clinical_indication: o.clinicalIndication,
    icd10_codes: o.icd10Codes,
    priority: o.priority,
    referring_physician: { practice_number: o.physicianPracticeNumber, name: o.physicianName },
    created_at: toZonedIso(o.createdAt, tz),
  };
}

export function statusChangeOut(c: StatusChange, tz: string): z.input<typeof statusChangeSchema> {
  return {
    from_status: c.fromStatus,
    to_status: c.toStatus,
    changed_by: c.changedBy,
    changed_by_role: c.changedByRole,
    changed_at: toZonedIso(c.changedAt, tz),
    note: c.note,
  };
}

export function physicianOut(p: Physician): z.input<typeof physicianSchema> {
  return {
    physician_id: p.physicianId,
    practice_number: p.practiceNumber,
    hpcsa_number: p.hpcsaNumber,
    title: p.title,
    family_name: p.familyName,
    given_names: p.givenNames,
    phone: p.phone,
    email: p.email,
  };
}

export function worklistItemOut(w: WorklistEntry, tz: string): z.input<typeof worklistItemSchema> {
  return {
    appointment_id: w.appointmentId,
    accession_number: w.accessionNumber,
    scheduled_start: toZonedIso(w.start, tz),
    scheduled_end: toZonedIso(w.end, tz),
    room: w.room,
    modality: w.modality,
    status: w.status,
    priority: w.priority,
    patient_id: w.patientId,
    patient_name: w.patientName,
    birth_date: w.birthDate,
    sex: w.sex,
    procedure_code: w.procedureCode,
    study_description: w.studyDescription,
    clinical_indication: w.clinicalIndication,
    referring_physician: w.referringPhysician,
  };
}
