/**
 * `upc-mcp seed-demo --pacs N`: loads N synthetic patients' studies into the configured Orthanc. The studies
 * come from the demo practice's plan (src/demo/practice-plan.ts), which the RIS demo mirrors: each accession
 * number has the RIS procedure's modality, description and body part, the same patient and the same day.
 */
import type { Config } from '../../config.js';
import {
  type DemoPastStudy,
  type DemoPatient,
  dicomDate,
  dicomPatientName,
  dicomTime,
  pastStudies,
  physicianDicomName,
} from '../../demo/practice-plan.js';
import {
  isSyntheticModality,
  iterateInstances,
  type PatientSpec,
  type PracticePlan,
  practiceFromSpecs,
} from '../../dicom/synthetic.js';
import type { StoredInstance } from './orthanc.api.js';
import { orthancFromConfig } from './pacs.module.js';

export interface PacsDemoOptions {
  patients: number;
  seed: number;
  /** One line of terminal output (progress and summary). */
  print: (line: string) => void;
  studiesPerPatient?: number;
  seriesPerStudy?: number;
  instancesPerSeries?: number;
  concurrency?: number;
}

/** The demo practice's shape. */
const PACS_DEMO_SHAPE = {
  studiesPerPatient: 2,
  seriesPerStudy: 2,
  instancesPerSeries: 5,
  rows: 128,
  columns: 128,
};

export interface PacsDemoResult {
  patients: number;
  studies: number;
  instances: number;
  stored: number;
  duplicates: number;
  failed: number;
  errors: string[];
}

type PlanOptions = Pick<PacsDemoOptions, 'patients' | 'seed' | 'studiesPerPatient'>;

/** The planned studies the PACS demo holds, per patient: what the RIS demo registers for the same seed. */
export function pacsDemoStudies(options: PlanOptions): { patient: DemoPatient; studies: DemoPastStudy[] }[] {
  if (!Number.isInteger(options.patients) || options.patients < 0 || options.patients > 1_000_000)
    throw new RangeError(`patients must be an integer in [0, 1000000], got ${options.patients}`);
  const studiesPerPatient = options.studiesPerPatient ?? PACS_DEMO_SHAPE.studiesPerPatient;
  if (!Number.isInteger(studiesPerPatient) || studiesPerPatient < 0 || studiesPerPatient > 100)
    throw new RangeError(`studiesPerPatient must be an integer in [0, 100], got ${studiesPerPatient}`);
  return pastStudies(options.seed, { patients: options.patients, studiesPerPatient });
}

/** The demo practice a seed gives, as DICOM: what `seedPacsDemo` uploads. */
export function pacsDemoPlan(options: Omit<PacsDemoOptions, 'print' | 'concurrency'>): PracticePlan {
  const patients: PatientSpec[] = pacsDemoStudies(options).map(({ patient, studies }) => ({
    patientId: patient.patientId,
    patientName: dicomPatientName(patient),
    birthDate: dicomDate(patient.birthDate),
    sex: patient.sex,
    studies: studies.map((study) => {
      const { procedure } = study;
      if (!isSyntheticModality(procedure.modality))
        throw new Error(
          `The demo plan gave ${study.accessionNumber} a ${procedure.modality} procedure: no images`,
        );
      return {
        accessionNumber: study.accessionNumber,
        studyDate: dicomDate(study.date),
        studyTime: dicomTime(study.startMinute),
        studyDescription: procedure.description,
        modality: procedure.modality,
        bodyPartExamined: procedure.bodyPart,
        referringPhysicianName: physicianDicomName(study.physician),
        seriesDescriptions: procedure.series,
      };
    }),
  }));
  return practiceFromSpecs({
    seed: options.seed,
    patients,
    seriesPerStudy: options.seriesPerStudy ?? PACS_DEMO_SHAPE.seriesPerStudy,
    instancesPerSeries: options.instancesPerSeries ?? PACS_DEMO_SHAPE.instancesPerSeries,
    rows: PACS_DEMO_SHAPE.rows,
    columns: PACS_DEMO_SHAPE.columns,
  });
}

/**
 * Uploads a deterministic synthetic practice (the same seed always gives the same patients and UIDs, so
 * running it twice reports duplicates instead of doubling the data). Prints a line per ~10 % and a summary.
 */
export async function seedPacsDemo(config: Config, options: PacsDemoOptions): Promise<PacsDemoResult> {
  const plan = pacsDemoPlan(options);
  const total = plan.counts.instances;
  const result: PacsDemoResult = {
    patients: plan.counts.patients,
    studies: plan.counts.studies,
    instances: total,
    stored: 0,
    duplicates: 0,
    failed: 0,
    errors: [],
  };
  const client = orthancFromConfig(config);
  try {
    await client.getJson('/system');
    options.print(
      `PACS demo: ${plan.counts.patients} patients, ${plan.counts.studies} studies, ${total} images → ${config.ORTHANC_URL}`,
    );
    const started = Date.now();
    const step = Math.max(1, Math.ceil(total / 10));
    let done = 0;
    const instances = iterateInstances(plan);
    // Workers share one generator, so images are made only as fast as Orthanc takes them.
    const worker = async () => {
      for (let next = instances.next(); !next.done; next = instances.next()) {
        try {
          const reply = await client.send({
            method: 'POST',
            path: '/instances',
            body: next.value.bytes,
            contentType: 'application/dicom',
          });
          const stored = JSON.parse(reply.body.toString('utf8')) as StoredInstance;
          if (stored.Status === 'AlreadyStored') result.duplicates += 1;
          else result.stored += 1;
        } catch (error) {
          result.failed += 1;
          if (result.errors.length < 5) result.errors.push((error as Error).message);
        }
        done += 1;
        if (done % step === 0 || done === total) {
          options.print(
            `  ${String(Math.round((done / total) * 100)).padStart(3)} %  ${done}/${total} images`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    options.print(
      `PACS demo done in ${seconds} s: ${result.stored} stored, ${result.duplicates} already there, ${result.failed} failed`,
    );
    return result;
  } finally {
    await client.close();
  }
}
