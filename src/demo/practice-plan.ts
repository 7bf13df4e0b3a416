/**
 * The demo practice's one plan, shared by the RIS demo (src/modules/ris/ris.demo.ts) and the PACS demo
 * (src/modules/pacs/pacs.demo.ts), so that an accession number means the same thing in both: the same
 * patient, procedure (code, description, modality, body part), indication, ICD-10 codes, priority and date.
 *
 * - Patients: made-up people, one per index, the same for a seed however many are asked for. The PACS demo
 *   holds the first N; the RIS books its week for the first `patients` (and any PACS patient beyond).
 * - Procedures: the RIS demo procedures (migration 0010) with the body part and series a study of them has,
 *   and the indications a referrer writes for them, each with ICD-10 codes from the demo set
 *   (src/modules/codes/demo/icd10-demo.csv) and the patients it fits (sex, age, pregnancy): no antenatal
 *   codes for men or children, injuries always with their external cause.
 * - Past studies: the PACS demo's studies (CT, MR and X-ray, the modalities the DICOM generator draws), on
 *   working days (weekdays that are not public holidays) between 2022 and mid 2025; fixed per seed and
 *   independent of the clock, so re-seeding a PACS on another day never changes a stored study.
 *
 * Pure and deterministic: no clock, no database, no I/O. Each entity has its own random stream keyed by
 * (seed, what it is), so adding one kind of row does not reshuffle the others.
 */
import { createHash } from 'node:crypto';
import { addDays, isoWeekdayOf } from '../core/practice-time.js';
import { holidaysOn } from '../core/public-holidays.js';
import { createRng, type Rng } from '../dicom/synthetic.js';

export type DemoSex = 'F' | 'M';
export type DemoPriority = 'stat' | 'urgent' | 'routine';

// ---------------------------------------------------------------------------------------------------------
// Randomness
// ---------------------------------------------------------------------------------------------------------

function hash32(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

/** A repeatable random stream for one purpose of one seed. */
export function demoRng(seed: number, stream: string): Rng {
  return createRng(hash32(`upc-demo-plan:${seed}:${stream}`));
}

export function pick<T>(rng: Rng, list: readonly T[]): T {
  const item = list[Math.floor(rng() * list.length)];
  if (item === undefined) throw new Error('pick() from an empty list');
  return item;
}

// ---------------------------------------------------------------------------------------------------------
// Referring physicians
// ---------------------------------------------------------------------------------------------------------

export interface DemoPhysician {
  familyName: string;
  givenNames: string;
  /** The login subject (`upc-mcp token --sub dr.naidoo --role referring_doctor` sees their patients). */
  userSubject: string;
}

export const DEMO_PHYSICIANS: readonly DemoPhysician[] = [
  { familyName: 'Naidoo', givenNames: 'Kavitha', userSubject: 'dr.naidoo' },
  { familyName: 'Botha', givenNames: 'Hendrik', userSubject: 'dr.botha' },
  { familyName: 'Mokoena', givenNames: 'Lindiwe', userSubject: 'dr.mokoena' },
  { familyName: 'Patel', givenNames: 'Vikesh', userSubject: 'dr.patel' },
  { familyName: 'Ndlovu', givenNames: 'Sibusiso', userSubject: 'dr.ndlovu' },
  { familyName: 'Smit', givenNames: 'Elna', userSubject: 'dr.smit' },
];

/** DICOM PN of a demo physician, e.g. `Naidoo^Kavitha^^Dr`. */
export function physicianDicomName(index: number): string {
  const p = DEMO_PHYSICIANS[index]!;
  return `${p.familyName}^${p.givenNames}^^Dr`;
}

/** The demo physician a DICOM PN names (by family name), or undefined. */
export function physicianIndexOf(dicomName: string | undefined): number | undefined {
  if (!dicomName) return undefined;
  const index = DEMO_PHYSICIANS.findIndex((p) => dicomName.startsWith(`${p.familyName}^`));
  return index >= 0 ? index : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Procedures and indications
// ---------------------------------------------------------------------------------------------------------

export interface DemoIndication {
  /** The clinical indication as a referrer writes it. */
  text: string;
  /** ICD-10 codes, primary first; an injury (S00-T98) is followed by its external cause (V01-Y98). */
  codes: readonly string[];
  /** Only for this sex. */
  sex?: DemoSex;
  /** Only from this age (whole years, inclusive). */
  minAge?: number;
  /** Only up to this age (whole years, inclusive: `maxAge: 44` fits until the 45th birthday). */
  maxAge?: number;
  /** Only for a pregnant patient. */
  pregnancy?: true;
  /** How soon it is seen: `acute` stat or urgent, `soon` urgent or routine, otherwise routine. */
  urgency?: Urgency;
}

export type Urgency = 'acute' | 'soon';

/** The priorities an indication may be ordered with, most pressing first. */
export function prioritiesFor(indication: DemoIndication): readonly DemoPriority[] {
  return indication.urgency === 'acute'
    ? ['stat', 'urgent']
    : indication.urgency === 'soon'
      ? ['urgent', 'routine']
      : ['routine'];
}

export interface DemoProcedure {
  /** `ris.procedures.procedure_code`. */
  code: string;
  /** `ris.procedures.description`, and the study's StudyDescription. */
  description: string;
  modality: string;
  /** DICOM BodyPartExamined (PS3.16 CID 4031 code strings). */
  bodyPart: string;
  /** Series descriptions, in acquisition order. */
  series: readonly string[];
  indications: readonly DemoIndication[];
}

/** Modalities that use ionising radiation: not booked for a pregnant patient. */
const IONISING = new Set(['CT', 'CR', 'MG']);

/**
 * The RIS demo procedures (codes, descriptions and modalities as seeded by migration 0010), with what a
 * study of each shows and why it is asked for. The demo consistency test checks the RIS rows still agree.
 */
export const DEMO_PROCEDURES: readonly DemoProcedure[] = [
  {
    code: '3011',
    description: 'CT head without contrast',
    modality: 'CT',
    bodyPart: 'HEAD',
    series: ['Axial 5mm', 'Axial 1mm bone'],
    indications: [
      { text: 'Headache, rule out intracranial pathology', codes: ['R51'], minAge: 12, urgency: 'soon' },
      { text: 'Fall with head injury, query intracranial bleed', codes: ['S06.0', 'W19'], urgency: 'acute' },
      {
        text: 'Sudden weakness and slurred speech, query stroke',
        codes: ['I64'],
        minAge: 45,
        urgency: 'acute',
      },
      { text: 'Collapse, query cause', codes: ['R55'], minAge: 18, urgency: 'acute' },
      { text: 'Driver in a car crash, head injury', codes: ['S06.0', 'V43.5'], minAge: 18, urgency: 'acute' },
    ],
  },
  {
    code: '3021',
    description: 'CT chest with contrast',
    modality: 'CT',
    bodyPart: 'CHEST',
    series: ['Axial 3mm', 'Lung 1mm', 'Coronal MPR'],
    indications: [
      {
        text: 'Chest pain and shortness of breath, exclude pulmonary embolism',
        codes: ['R07.4', 'R06.0'],
        minAge: 18,
        urgency: 'acute',
      },
      { text: 'Abnormal chest X-ray, query lung mass', codes: ['R91'], minAge: 35, urgency: 'soon' },
      { text: 'Lung cancer, staging', codes: ['C34.9'], minAge: 40, urgency: 'soon' },
      { text: 'Pulmonary embolism on treatment, follow-up', codes: ['I26.9'], minAge: 18 },
    ],
  },
  {
    code: '3041',
    description: 'CT abdomen and pelvis with contrast',
    modality: 'CT',
    bodyPart: 'ABDOMENPELVIS',
    series: ['Portal venous 3mm', 'Coronal MPR'],
    indications: [
      { text: 'Right iliac fossa pain, query appendicitis', codes: ['R10.3'], minAge: 12, urgency: 'acute' },
      { text: 'Renal colic, query ureteric calculus', codes: ['N23'], minAge: 18, urgency: 'acute' },
      { text: 'Acute pancreatitis, assess for complications', codes: ['K85.9'], minAge: 18, urgency: 'soon' },
      { text: 'Acute abdomen', codes: ['R10.0'], minAge: 18, urgency: 'acute' },
    ],
  },
  {
    code: '3111',
    description: 'MRI brain',
    modality: 'MR',
    bodyPart: 'HEAD',
    series: ['Ax T2', 'Ax FLAIR', 'Sag T1', 'DWI'],
    indications: [
      { text: 'Migraine with new neurological features', codes: ['G43.9'], minAge: 12, urgency: 'soon' },
      { text: 'Multiple sclerosis, annual follow-up', codes: ['G35'], minAge: 18, maxAge: 65 },
      { text: 'Transient ischaemic attack', codes: ['G45.9'], minAge: 40, urgency: 'soon' },
      { text: 'Delayed milestones', codes: ['R62.0'], maxAge: 15 },
    ],
  },
  {
    code: '3161',
    description: 'MRI lumbar spine',
    modality: 'MR',
    bodyPart: 'LSPINE',
    series: ['Sag T2', 'Sag T1', 'Ax T2'],
    indications: [
      { text: 'Low back pain for three months', codes: ['M54.5'], minAge: 18 },
      {
        text: 'Low back pain with sciatica, query disc prolapse',
        codes: ['M51.1'],
        minAge: 18,
        urgency: 'soon',
      },
    ],
  },
  {
    code: '3181',
    description: 'MRI knee',
    modality: 'MR',
    bodyPart: 'KNEE',
    series: ['Cor PD FS', 'Sag PD', 'Ax PD FS'],
    indications: [
      {
        text: 'Twisted knee after slipping, query meniscal tear',
        codes: ['S83.2', 'W01'],
        minAge: 12,
        urgency: 'soon',
      },
      { text: 'Knee locking, old meniscal injury', codes: ['M23.2'], minAge: 16 },
      { text: 'Knee osteoarthritis, pre-operative assessment', codes: ['M17.9'], minAge: 45 },
    ],
  },
  {
    code: '0101',
    description: 'Chest X-ray PA and lateral',
    modality: 'CR',
    bodyPart: 'CHEST',
    series: ['PA', 'Lateral'],
    indications: [
      { text: 'Chronic cough', codes: ['R05'] },
      { text: 'Fever and cough, query pneumonia', codes: ['J18.9'], urgency: 'acute' },
      { text: 'Pulmonary tuberculosis on treatment, follow-up', codes: ['A15.0'], minAge: 12 },
      { text: 'Asthma, acute exacerbation', codes: ['J45.9'], urgency: 'acute' },
      { text: 'Congestive heart failure, follow-up', codes: ['I50.0'], minAge: 50 },
    ],
  },
  {
    code: '0301',
    description: 'X-ray wrist',
    modality: 'CR',
    bodyPart: 'WRIST',
    series: ['PA', 'Lateral'],
    indications: [
      {
        text: 'Fall on outstretched hand, query scaphoid fracture',
        codes: ['S62.0', 'W19'],
        urgency: 'acute',
      },
      {
        text: 'Fell on the stairs, wrist deformity, query distal radius fracture',
        codes: ['S52.5', 'W10'],
        urgency: 'acute',
      },
    ],
  },
  {
    code: '0501',
    description: 'X-ray lower leg (tibia and fibula)',
    modality: 'CR',
    bodyPart: 'LEG',
    series: ['AP', 'Lateral'],
    indications: [
      { text: 'Pedestrian hit by a car, tibial pain', codes: ['S82.2', 'V03.1'], urgency: 'acute' },
      {
        text: 'Assaulted, lower leg pain and swelling',
        codes: ['S82.2', 'Y04'],
        minAge: 16,
        urgency: 'acute',
      },
      { text: 'Tripped and fell, lower leg pain', codes: ['S82.2', 'W01'], urgency: 'acute' },
    ],
  },
  {
    code: '4011',
    description: 'Ultrasound abdomen',
    modality: 'US',
    bodyPart: 'ABDOMEN',
    series: ['Liver and gallbladder', 'Kidneys'],
    indications: [
      { text: 'Right upper quadrant pain, query gallstones', codes: ['R10.1'], minAge: 18, urgency: 'soon' },
      { text: 'Known gallstones, follow-up', codes: ['K80.2'], minAge: 18 },
      { text: 'Fatty liver, follow-up', codes: ['K76.0'], minAge: 18 },
      { text: 'Recurrent urinary tract infection, renal assessment', codes: ['N39.0'] },
      { text: 'Haematuria', codes: ['R31'], minAge: 18, urgency: 'soon' },
      { text: 'Abdominal aortic aneurysm, surveillance', codes: ['I71.4'], sex: 'M', minAge: 60 },
    ],
  },
  {
    code: '4031',
    description: 'Ultrasound obstetric',
    modality: 'US',
    bodyPart: 'PELVIS',
    series: ['Fetal biometry', 'Placenta'],
    indications: [
      { text: 'Antenatal scan, 20 weeks', codes: ['Z34.9'], sex: 'F', pregnancy: true },
      { text: 'First-trimester antenatal screening', codes: ['Z36.9'], sex: 'F', pregnancy: true },
      { text: 'Twin pregnancy, growth scan', codes: ['O30.0'], sex: 'F', pregnancy: true, urgency: 'soon' },
      {
        text: 'Pain and bleeding in early pregnancy, query ectopic pregnancy',
        codes: ['O00.9'],
        sex: 'F',
        pregnancy: true,
        urgency: 'acute',
      },
    ],
  },
  {
    code: '3601',
    description: 'Mammography bilateral',
    modality: 'MG',
    bodyPart: 'BREAST',
    series: ['R CC', 'L CC', 'R MLO', 'L MLO'],
    indications: [
      { text: 'Breast cancer screening', codes: ['Z12.3'], sex: 'F', minAge: 40 },
      { text: 'Lump in the left breast', codes: ['N63'], sex: 'F', minAge: 25, urgency: 'soon' },
      { text: 'Breast cancer, annual follow-up', codes: ['C50.9'], sex: 'F', minAge: 35 },
    ],
  },
];

const BY_CODE = new Map(DEMO_PROCEDURES.map((p) => [p.code, p]));

export function demoProcedure(code: string): DemoProcedure | undefined {
  return BY_CODE.get(code);
}

/** The demo procedure a study description names (case-insensitive), within a modality when given. */
export function demoProcedureByDescription(
  description: string,
  modality?: string,
): DemoProcedure | undefined {
  const wanted = description.trim().toLowerCase();
  return DEMO_PROCEDURES.find(
    (p) => p.description.toLowerCase() === wanted && (!modality || p.modality === modality),
  );
}

/** What an order without a fitting indication falls back to: an honest "radiological examination". */
export const GENERIC_INDICATION: DemoIndication = {
  text: 'Radiological examination requested by the referring doctor',
  codes: ['Z01.6'],
};

// ---------------------------------------------------------------------------------------------------------
// Patients
// ---------------------------------------------------------------------------------------------------------

// biome-ignore format: compact word list
const FAMILY_NAMES = [
  'Dlamini', 'Nkosi', 'Naidoo', 'van der Merwe', 'Botha', 'Mokoena', 'Khumalo', 'Pillay', 'Ndlovu',
  'Mahlangu', 'Zulu', 'Petersen', 'Jacobs', 'Mthembu', 'Govender', 'Pretorius', 'Sithole', 'Molefe',
  'Maseko', 'Coetzee', 'Hendricks', 'Ngcobo', 'Adams', 'Fourie', 'Baloyi', 'Mabaso', 'Steyn', 'Moodley',
];

// biome-ignore format: compact word list
const GIVEN_NAMES: Readonly<Record<DemoSex, readonly string[]>> = {
  F: [
    'Thandiwe', 'Nomsa', 'Lerato', 'Ayanda', 'Zanele', 'Anele', 'Priya', 'Annelie', 'Nadia', 'Busisiwe',
    'Refilwe', 'Naledi', 'Chantelle', 'Fatima', 'Palesa', 'Karabo', 'Ayesha', 'Anika', 'Nomvula', 'Precious',
  ],
  M: [
    'Sipho', 'Thabo', 'Bongani', 'Mandla', 'Pieter', 'Johan', 'Kagiso', 'Lwazi', 'Rajesh', 'Themba',
    'Tshepo', 'Ahmed', 'Sizwe', 'Riaan', 'Vusi', 'Lebo', 'Ashwin', 'Zola',
  ],
};

/** Pregnancies are planned for women of these ages (whole years, inclusive). */
const CHILD_BEARING = { minAge: 18, maxAge: 44 } as const;

export interface DemoPatient {
  index: number;
  /** `UPC` + digits, from a seed-dependent base. */
  patientId: string;
  familyName: string;
  givenNames: string;
  /** YYYY-MM-DD */
  birthDate: string;
  sex: DemoSex;
  /** A woman who is pregnant during the demo week when of child-bearing age then (see `isPregnantOn`). */
  expecting: boolean;
}

/** What the fitting rules need to know about a patient (demo or not). */
export interface PatientFacts {
  /** M or F; anything else fits only indications for either sex. */
  sex: string;
  /** YYYY-MM-DD */
  birthDate: string;
  expecting?: boolean;
}

const PATIENT_ID = /^UPC(\d{6,9})$/;

function patientBase(seed: number): number {
  return 900_000 + (hash32(`patients:${seed}`) % 50_000);
}

/** Demo patient number `index` (0-based) of a seed. */
export function demoPatient(seed: number, index: number): DemoPatient {
  const rng = demoRng(seed, `patient/${index}`);
  const sex: DemoSex = rng() < 0.55 ? 'F' : 'M';
  const birth = new Date(
    Date.UTC(1940 + Math.floor(rng() * 80), Math.floor(rng() * 12), 1 + Math.floor(rng() * 28)),
  );
  return {
    index,
    patientId: `UPC${patientBase(seed) + index}`,
    familyName: pick(rng, FAMILY_NAMES),
    givenNames: pick(rng, GIVEN_NAMES[sex]),
    birthDate: birth.toISOString().slice(0, 10),
    sex,
    expecting: sex === 'F' && rng() < 0.35,
  };
}

/** The demo patient with this id for a seed, or undefined when the id is not one of the plan's. */
export function demoPatientById(seed: number, patientId: string): DemoPatient | undefined {
  const match = PATIENT_ID.exec(patientId);
  if (!match) return undefined;
  const index = Number(match[1]) - patientBase(seed);
  return index >= 0 && index < 1_000_000 ? demoPatient(seed, index) : undefined;
}

const DAY_MS = 86_400_000;

/** Exact age in years on a day (as the codes module counts it: days / 365.25). */
export function ageOn(birthDate: string, day: string): number {
  return (Date.parse(`${day}T00:00:00Z`) - Date.parse(`${birthDate}T00:00:00Z`)) / DAY_MS / 365.25;
}

/** Whether the patient is pregnant on that day (the RIS week; past studies are planned without). */
export function isPregnantOn(patient: PatientFacts, day: string): boolean {
  if (!patient.expecting || patient.sex !== 'F') return false;
  const age = ageOn(patient.birthDate, day);
  return age >= CHILD_BEARING.minAge && age < CHILD_BEARING.maxAge + 1;
}

/**
 * The indications of a procedure that fit the patient on that day: sex, age, pregnancy; nothing that uses
 * ionising radiation for a pregnant patient.
 */
export function indicationsFor(
  procedure: DemoProcedure,
  patient: PatientFacts,
  day: string,
  pregnant = isPregnantOn(patient, day),
): DemoIndication[] {
  if (pregnant && IONISING.has(procedure.modality)) return [];
  const age = ageOn(patient.birthDate, day);
  if (age < 0) return [];
  return procedure.indications.filter(
    (i) =>
      (!i.sex || i.sex === patient.sex) &&
      (i.minAge === undefined || age >= i.minAge) &&
      (i.maxAge === undefined || age < i.maxAge + 1) &&
      (!i.pregnancy || pregnant),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Past studies (the PACS demo)
// ---------------------------------------------------------------------------------------------------------

/** Past studies fall on working days in this range (before any product clock the demo is used with). */
const PAST_FIRST_MONDAY = '2022-01-03';
const PAST_WEEKS = 182; // to the end of June 2025

/** A working day for the demo's history: Monday to Friday and not a public holiday. */
export function isWorkingDay(day: string): boolean {
  return isoWeekdayOf(day) <= 5 && holidaysOn(day).length === 0;
}

export interface DemoPastStudy {
  accessionNumber: string;
  patient: DemoPatient;
  procedure: DemoProcedure;
  indication: DemoIndication;
  priority: Exclude<DemoPriority, 'stat'>;
  /** Index into DEMO_PHYSICIANS. */
  physician: number;
  /** YYYY-MM-DD, practice time. */
  date: string;
  /** Minutes after local midnight. */
  startMinute: number;
  /** When the order was placed: a day and minutes after its local midnight, before the study. */
  orderedDate: string;
  orderedMinute: number;
}

/** The procedures the PACS demo images (the DICOM generator draws CT, MR and CR). */
export const IMAGED_MODALITIES: ReadonlySet<string> = new Set(['CT', 'MR', 'CR']);
const IMAGED = DEMO_PROCEDURES.filter((p) => IMAGED_MODALITIES.has(p.modality));

function pastAccession(seed: number, serial: number): string {
  return `ACC${10_000_000 + ((hash32(`past-accessions:${seed}`) + serial) % 40_000_000)}`;
}

/**
 * The PACS demo's studies: `studiesPerPatient` past studies for each of the first `patients` demo patients,
 * each on its own working day, on a 15-minute grid between 08:00 and 16:00, with a procedure and an
 * indication that fit the patient on that day. Accession numbers are ACC1xxxxxxx-ACC4xxxxxxx (the RIS week
 * uses ACC9xxxxxxx). Patient `p`'s studies do not depend on how many patients are asked for.
 */
export function pastStudies(
  seed: number,
  options: { patients: number; studiesPerPatient: number },
): { patient: DemoPatient; studies: DemoPastStudy[] }[] {
  const all: { patient: DemoPatient; studies: DemoPastStudy[] }[] = [];
  for (let p = 0; p < options.patients; p++) {
    const patient = demoPatient(seed, p);
    const studies: DemoPastStudy[] = [];
    for (let s = 0; s < options.studiesPerPatient; s++) {
      const rng = demoRng(seed, `past/${p}/${s}`);
      let date = '';
      do {
        date = addDays(PAST_FIRST_MONDAY, Math.floor(rng() * PAST_WEEKS) * 7 + Math.floor(rng() * 5));
      } while (!isWorkingDay(date) || studies.some((done) => done.date === date));
      // Chest X-ray for a chronic cough fits everyone, so every patient has some procedure.
      const fitting = IMAGED.filter(
        (procedure) => indicationsFor(procedure, patient, date, false).length > 0,
      );
      const procedure = pick(rng, fitting);
      const indication = pick(rng, indicationsFor(procedure, patient, date, false));
      const startMinute = 8 * 60 + Math.floor(rng() * 33) * 15;
      // History has no stat orders (stat means today): acute ones were urgent, some others too.
      const allowed = prioritiesFor(indication).filter((p) => p !== 'stat');
      const urgent = allowed[0] === 'urgent' && (allowed.length === 1 || rng() < 0.3);
      const daysBefore = urgent ? Math.floor(rng() * 3) : 3 + Math.floor(rng() * 19);
      const orderedMinute =
        daysBefore === 0
          ? 7 * 60 + Math.floor(rng() * Math.max(1, startMinute - 30 - 7 * 60))
          : 7 * 60 + Math.floor(rng() * 10 * 60);
      studies.push({
        accessionNumber: pastAccession(seed, p * options.studiesPerPatient + s),
        patient,
        procedure,
        indication,
        priority: urgent ? 'urgent' : 'routine',
        physician: Math.floor(rng() * DEMO_PHYSICIANS.length),
        date,
        startMinute,
        orderedDate: addDays(date, -daysBefore),
        orderedMinute,
      });
    }
    all.push({ patient, studies });
  }
  return all;
}

/** The first accession number of the RIS week (ACC9xxxxxxx); the week counts up from it. */
export function weekAccessionBase(seed: number): number {
  return 90_000_000 + (hash32(`acc:${seed}`) % 5_000_000);
}

// ---------------------------------------------------------------------------------------------------------
// DICOM shapes
// ---------------------------------------------------------------------------------------------------------

/** YYYY-MM-DD → YYYYMMDD */
export const dicomDate = (day: string): string => day.replaceAll('-', '');
/** Minutes after midnight → HHMMSS */
export const dicomTime = (minutes: number): string =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}${String(minutes % 60).padStart(2, '0')}00`;
/** `Family^Given` */
export const dicomPatientName = (p: Pick<DemoPatient, 'familyName' | 'givenNames'>): string =>
  `${p.familyName}^${p.givenNames}`;
