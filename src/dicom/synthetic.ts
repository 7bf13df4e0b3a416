/**
 * Deterministic synthetic DICOM: a "practice" of made-up patients, studies, series and images that can be
 * loaded into a real PACS for tests, demos and benchmarks. No real data and no downloads: everything is
 * derived from a numeric seed, so the same seed always yields the same names, dates, UIDs and pixels.
 */
import { createHash } from 'node:crypto';
import { data as dcmjsData, type NaturalizedDataset } from 'dcmjs';

export type Modality = 'CT' | 'MR' | 'CR';
export type Sex = 'M' | 'F';

/** Returns numbers uniformly distributed in [0, 1). */
export type Rng = () => number;

export interface SyntheticPatient {
  patientId: string;
  /** DICOM PN form: `Family^Given`. */
  patientName: string;
  /** YYYYMMDD */
  birthDate: string;
  sex: Sex;
}

export interface SyntheticSeries {
  seriesInstanceUid: string;
  seriesNumber: number;
  seriesDescription: string;
  /** Instances are numbered 1..instanceCount; their UIDs come from {@link sopInstanceUidFor}. */
  instanceCount: number;
  frameOfReferenceUid: string;
}

export interface SyntheticStudy {
  studyInstanceUid: string;
  accessionNumber: string;
  studyId: string;
  /** YYYYMMDD */
  studyDate: string;
  /** HHMMSS */
  studyTime: string;
  studyDescription: string;
  modality: Modality;
  bodyPartExamined: string;
  /** DICOM PN form, e.g. `Naidoo^Kavitha^^Dr`. */
  referringPhysicianName: string;
  series: SyntheticSeries[];
}

export interface PracticePatient extends SyntheticPatient {
  studies: SyntheticStudy[];
}

export interface PracticePlan {
  seed: number;
  rows: number;
  columns: number;
  institutionName: string;
  patients: PracticePatient[];
  counts: { patients: number; studies: number; series: number; instances: number };
}

export interface GeneratePracticeOptions {
  seed: number;
  patients: number;
  studiesPerPatient: number;
  /** Default 1. */
  seriesPerStudy?: number;
  /** Default 3. */
  instancesPerSeries?: number;
  /** Default 64. */
  rows?: number;
  /** Default 64. */
  columns?: number;
  /** Modalities to draw from; default all of CT, MR and CR. */
  modalities?: readonly Modality[];
  institutionName?: string;
}

export interface BuildInstanceOptions {
  rows?: number;
  columns?: number;
  institutionName?: string;
}

export interface SyntheticInstance {
  patient: SyntheticPatient;
  study: SyntheticStudy;
  series: SyntheticSeries;
  instanceNumber: number;
  sopInstanceUid: string;
  bytes: Uint8Array;
}

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

export const SOP_CLASS_UIDS: Readonly<Record<Modality, string>> = {
  CT: '1.2.840.10008.5.1.4.1.1.2',
  MR: '1.2.840.10008.5.1.4.1.1.4',
  CR: '1.2.840.10008.5.1.4.1.1.1',
};

const DEFAULT_INSTITUTION = 'Ubuntu Patient Care Radiology';
const DEFAULT_SIZE = 64;

// ---------------------------------------------------------------------------------------------------------
// Randomness and UIDs
// ---------------------------------------------------------------------------------------------------------

/** mulberry32: tiny, fast, good enough for test data; NOT for anything security related. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function digest(seed: number, path: string): Buffer {
  return createHash('sha256').update(`upc-synthetic:${seed}:${path}`).digest();
}

/**
 * Each entity gets its own RNG keyed by (seed, path) rather than sharing one stream, so patient 7 looks the
 * same whether the practice has 10 or 10 000 patients.
 */
function rngFor(seed: number, path: string): Rng {
  return createRng(digest(seed, path).readUInt32BE(0));
}

/**
 * `2.25.<decimal of a 128-bit UUID>` (max 44 chars). The bits come from SHA-256 rather than the 32-bit
 * PRNG, whose state space is too small to keep hundreds of thousands of UIDs collision free. Version and
 * variant bits mark it as an RFC 9562 v8 (custom) UUID.
 */
function uidFromHash(hash: Buffer): string {
  const bytes = Buffer.from(hash.subarray(0, 16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  return `2.25.${BigInt(`0x${bytes.toString('hex')}`).toString(10)}`;
}

function uidFor(seed: number, path: string): string {
  return uidFromHash(digest(seed, `uid:${path}`));
}

/** SOP Instance UIDs are derived on demand so that large plans need not hold every UID in memory. */
export function sopInstanceUidFor(series: SyntheticSeries, instanceNumber: number): string {
  return uidFromHash(createHash('sha256').update(`${series.seriesInstanceUid}/${instanceNumber}`).digest());
}

const IMPLEMENTATION_CLASS_UID = uidFor(0, 'implementation-class');

// ---------------------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------------------

// biome-ignore format: compact word list
const FAMILY_NAMES = [
  'Dlamini', 'Nkosi', 'Naidoo', 'van der Merwe', 'Botha', 'Mokoena', 'Khumalo', 'Pillay', 'Ndlovu',
  'Mahlangu', 'Zulu', 'Petersen', 'Jacobs', 'Mthembu', 'Govender', 'Pretorius', 'Sithole', 'Molefe',
  'Maseko', 'Coetzee', 'Hendricks', 'Ngcobo', 'Adams', 'Fourie', 'Baloyi', 'Mabaso', 'Steyn', 'Moodley',
] as const;

// biome-ignore format: compact word list
const GIVEN_NAMES: Readonly<Record<Sex, readonly string[]>> = {
  F: [
    'Thandiwe', 'Nomsa', 'Lerato', 'Ayanda', 'Zanele', 'Anele', 'Priya', 'Annelie', 'Nadia', 'Busisiwe',
    'Refilwe', 'Naledi', 'Chantal', 'Fatima', 'Palesa', 'Karabo',
  ],
  M: [
    'Sipho', 'Thabo', 'Bongani', 'Mandla', 'Pieter', 'Johan', 'Kagiso', 'Lwazi', 'Rajesh', 'Themba',
    'Tshepo', 'Ahmed', 'Sizwe', 'Riaan', 'Vusi', 'Lebo',
  ],
};

const REFERRING_PHYSICIANS = [
  'Naidoo^Kavitha^^Dr',
  'Botha^Hendrik^^Dr',
  'Mokoena^Lindiwe^^Dr',
  'Patel^Vikesh^^Dr',
  'Ndlovu^Sibusiso^^Dr',
  'Smit^Elna^^Dr',
] as const;

interface Protocol {
  description: string;
  bodyPart: string;
  series: readonly string[];
}

const PROTOCOLS: Readonly<Record<Modality, readonly Protocol[]>> = {
  CT: [
    { description: 'CT Brain without contrast', bodyPart: 'HEAD', series: ['Axial 5mm', 'Axial 1mm bone'] },
    {
      description: 'CT Chest with contrast',
      bodyPart: 'CHEST',
      series: ['Axial 3mm', 'Lung 1mm', 'Coronal MPR'],
    },
    {
      description: 'CT Abdomen and Pelvis',
      bodyPart: 'ABDOMEN',
      series: ['Portal venous 3mm', 'Coronal MPR'],
    },
  ],
  MR: [
    { description: 'MR Brain', bodyPart: 'HEAD', series: ['Ax T2', 'Ax FLAIR', 'Sag T1', 'DWI'] },
    { description: 'MR Lumbar spine', bodyPart: 'LSPINE', series: ['Sag T2', 'Sag T1', 'Ax T2'] },
    { description: 'MR Knee left', bodyPart: 'KNEE', series: ['Cor PD FS', 'Sag PD', 'Ax PD FS'] },
  ],
  CR: [
    { description: 'CR Chest PA', bodyPart: 'CHEST', series: ['PA', 'Lateral'] },
    { description: 'CR Left hand', bodyPart: 'HAND', series: ['PA', 'Oblique'] },
    { description: 'CR Pelvis AP', bodyPart: 'PELVIS', series: ['AP'] },
  ],
};

const ALL_MODALITIES: readonly Modality[] = ['CT', 'MR', 'CR'];

function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick() from an empty list');
  return item;
}

// ---------------------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------------------

const DAY_MS = 86_400_000;

function dicomDate(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10).replaceAll('-', '');
}

/** A date in [from, to] (inclusive, UTC), as YYYYMMDD. */
function randomDate(rng: Rng, from: string, to: string): string {
  const start = Date.parse(`${from}T00:00:00Z`);
  const days = Math.round((Date.parse(`${to}T00:00:00Z`) - start) / DAY_MS);
  return dicomDate(start + Math.floor(rng() * (days + 1)) * DAY_MS);
}

/** Office hours, 07:00:00 to 17:59:59, as HHMMSS. */
function randomTime(rng: Rng): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(7 + Math.floor(rng() * 11))}${pad(Math.floor(rng() * 60))}${pad(Math.floor(rng() * 60))}`;
}

function ageAt(birthDate: string, onDate: string): string {
  const years = Number(onDate.slice(0, 4)) - Number(birthDate.slice(0, 4));
  const hadBirthday = onDate.slice(4) >= birthDate.slice(4);
  return `${String(Math.max(0, hadBirthday ? years : years - 1)).padStart(3, '0')}Y`;
}

// ---------------------------------------------------------------------------------------------------------
// Plan
// ---------------------------------------------------------------------------------------------------------

function requireCount(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

/** A seed-dependent starting number so that practices with different seeds rarely share ids. */
function idBase(seed: number, kind: string, modulus: number): number {
  return digest(seed, `id-base:${kind}`).readUInt32BE(0) % modulus;
}

function makePatient(seed: number, index: number, idNumber: number): SyntheticPatient {
  const rng = rngFor(seed, `patient/${index}`);
  const sex: Sex = rng() < 0.5 ? 'F' : 'M';
  return {
    patientId: `UPC${String(idNumber).padStart(6, '0')}`,
    patientName: `${pick(rng, FAMILY_NAMES)}^${pick(rng, GIVEN_NAMES[sex])}`,
    birthDate: randomDate(rng, '1940-01-01', '2018-12-31'),
    sex,
  };
}

interface StudyShape {
  seriesPerStudy: number;
  instancesPerSeries: number;
  modalities: readonly Modality[];
  /** Folded into UIDs: the same seed with different content options must not reuse a UID. */
  contentKey: string;
}

function makeStudy(
  seed: number,
  path: string,
  accession: number,
  studyId: number,
  shape: StudyShape,
): SyntheticStudy {
  const rng = rngFor(seed, `study/${path}`);
  const modality = pick(rng, shape.modalities);
  const protocol = pick(rng, PROTOCOLS[modality]);
  const series: SyntheticSeries[] = [];
  for (let s = 0; s < shape.seriesPerStudy; s++) {
    series.push({
      seriesInstanceUid: uidFor(seed, `${shape.contentKey}/series/${path}/${s}`),
      seriesNumber: s + 1,
      seriesDescription: protocol.series[s % protocol.series.length] ?? protocol.description,
      instanceCount: shape.instancesPerSeries,
      frameOfReferenceUid: uidFor(seed, `${shape.contentKey}/frame-of-reference/${path}/${s}`),
    });
  }
  return {
    studyInstanceUid: uidFor(seed, `${shape.contentKey}/study/${path}`),
    accessionNumber: `ACC${String(accession).padStart(8, '0')}`,
    studyId: String(studyId),
    studyDate: randomDate(rng, '2022-01-01', '2025-06-30'),
    studyTime: randomTime(rng),
    studyDescription: protocol.description,
    modality,
    bodyPartExamined: protocol.bodyPart,
    referringPhysicianName: pick(rng, REFERRING_PHYSICIANS),
    series,
  };
}

/** Plans a practice. Cheap: no pixels are made until {@link iterateInstances} or {@link buildInstance}. */
export function generatePractice(options: GeneratePracticeOptions): PracticePlan {
  const { seed } = options;
  requireCount('seed', seed, 0, 0xffffffff);
  const patients = requireCount('patients', options.patients, 0, 1_000_000);
  const studiesPerPatient = requireCount('studiesPerPatient', options.studiesPerPatient, 0, 100);
  const seriesPerStudy = requireCount('seriesPerStudy', options.seriesPerStudy ?? 1, 1, 100);
  const instancesPerSeries = requireCount('instancesPerSeries', options.instancesPerSeries ?? 3, 1, 10_000);
  const modalities = options.modalities?.length ? options.modalities : ALL_MODALITIES;
  const rows = requireCount('rows', options.rows ?? DEFAULT_SIZE, 8, 4096);
  const columns = requireCount('columns', options.columns ?? DEFAULT_SIZE, 8, 4096);
  const institutionName = options.institutionName ?? DEFAULT_INSTITUTION;
  // Everything that changes what a study contains, but not the number of patients or studies: growing a
  // practice keeps existing UIDs, while e.g. a different image size yields new ones.
  const contentKey = JSON.stringify([
    seriesPerStudy,
    instancesPerSeries,
    modalities,
    rows,
    columns,
    institutionName,
  ]);
  const shape: StudyShape = { seriesPerStudy, instancesPerSeries, modalities, contentKey };

  // Ids count up from a seed-dependent base and wrap, so they stay unique within one plan.
  const patientBase = idBase(seed, 'patient', 1_000_000);
  const accessionBase = idBase(seed, `accession/${contentKey}/${studiesPerPatient}`, 100_000_000);
  const planned: PracticePatient[] = [];
  for (let p = 0; p < patients; p++) {
    const patient = makePatient(seed, p, (patientBase + p) % 1_000_000);
    const studies: SyntheticStudy[] = [];
    for (let s = 0; s < studiesPerPatient; s++) {
      const accession = (accessionBase + p * studiesPerPatient + s) % 100_000_000;
      studies.push(makeStudy(seed, `${p}/${s}`, accession, s + 1, shape));
    }
    planned.push({ ...patient, studies });
  }

  const studies = patients * studiesPerPatient;
  const series = studies * seriesPerStudy;
  return {
    seed,
    rows,
    columns,
    institutionName,
    patients: planned,
    counts: { patients, studies, series, instances: series * instancesPerSeries },
  };
}

/** One study of {@link practiceFromSpecs}: what it shows, decided by the caller (e.g. the demo plan). */
export interface StudySpec {
  accessionNumber: string;
  /** YYYYMMDD */
  studyDate: string;
  /** HHMMSS */
  studyTime: string;
  studyDescription: string;
  modality: Modality;
  bodyPartExamined: string;
  /** DICOM PN form, e.g. `Naidoo^Kavitha^^Dr`. */
  referringPhysicianName: string;
  /** Series descriptions in acquisition order; series `s` takes entry `s` modulo their number. */
  seriesDescriptions: readonly string[];
}

export interface PatientSpec extends SyntheticPatient {
  studies: readonly StudySpec[];
}

export interface PracticeFromSpecsOptions {
  seed: number;
  patients: readonly PatientSpec[];
  /** Default 1. */
  seriesPerStudy?: number;
  /** Default 3. */
  instancesPerSeries?: number;
  /** Default 64. */
  rows?: number;
  /** Default 64. */
  columns?: number;
  institutionName?: string;
}

/**
 * A practice whose patients and studies are given (the demo plan decides procedure, date and physician);
 * this adds the series, UIDs and image shape. UIDs derive from the seed, the accession number and the
 * content options, so a study keeps its UIDs whatever else the practice holds, and never shares one with
 * {@link generatePractice}.
 */
export function practiceFromSpecs(options: PracticeFromSpecsOptions): PracticePlan {
  const { seed } = options;
  requireCount('seed', seed, 0, 0xffffffff);
  const seriesPerStudy = requireCount('seriesPerStudy', options.seriesPerStudy ?? 1, 1, 100);
  const instancesPerSeries = requireCount('instancesPerSeries', options.instancesPerSeries ?? 3, 1, 10_000);
  const rows = requireCount('rows', options.rows ?? DEFAULT_SIZE, 8, 4096);
  const columns = requireCount('columns', options.columns ?? DEFAULT_SIZE, 8, 4096);
  const institutionName = options.institutionName ?? DEFAULT_INSTITUTION;
  const contentKey = JSON.stringify([
    'specs',
    seriesPerStudy,
    instancesPerSeries,
    rows,
    columns,
    institutionName,
  ]);
  let studyCount = 0;
  const patients: PracticePatient[] = options.patients.map(({ studies, ...patient }) => ({
    ...patient,
    studies: studies.map((spec, s) => {
      studyCount += 1;
      const path = `${contentKey}/${spec.accessionNumber}`;
      const series: SyntheticSeries[] = [];
      for (let n = 0; n < seriesPerStudy; n++) {
        series.push({
          seriesInstanceUid: uidFor(seed, `series/${path}/${n}`),
          seriesNumber: n + 1,
          seriesDescription:
            spec.seriesDescriptions[n % spec.seriesDescriptions.length] ?? spec.studyDescription,
          instanceCount: instancesPerSeries,
          frameOfReferenceUid: uidFor(seed, `frame-of-reference/${path}/${n}`),
        });
      }
      return {
        studyInstanceUid: uidFor(seed, `study/${path}`),
        accessionNumber: spec.accessionNumber,
        studyId: String(s + 1),
        studyDate: spec.studyDate,
        studyTime: spec.studyTime,
        studyDescription: spec.studyDescription,
        modality: spec.modality,
        bodyPartExamined: spec.bodyPartExamined,
        referringPhysicianName: spec.referringPhysicianName,
        series,
      };
    }),
  }));
  const series = studyCount * seriesPerStudy;
  return {
    seed,
    rows,
    columns,
    institutionName,
    patients,
    counts: {
      patients: patients.length,
      studies: studyCount,
      series,
      instances: series * instancesPerSeries,
    },
  };
}

/** Whether the generator can draw images of this modality. */
export function isSyntheticModality(modality: string): modality is Modality {
  return ALL_MODALITIES.includes(modality as Modality);
}

// ---------------------------------------------------------------------------------------------------------
// Pixels
// ---------------------------------------------------------------------------------------------------------

/** Stored pixel values (12 bit) per region, and the display window, per modality. */
interface Appearance {
  background: number;
  body: number;
  organ: number;
  bone: number;
  windowCenter: number;
  windowWidth: number;
}

const APPEARANCE: Readonly<Record<Modality, Appearance>> = {
  // With RescaleIntercept -1024: air -1024 HU, soft tissue ~40 HU, enhancing organ ~200 HU, bone ~1200 HU.
  CT: { background: 0, body: 1064, organ: 1224, bone: 2224, windowCenter: 40, windowWidth: 400 },
  MR: { background: 0, body: 420, organ: 900, bone: 90, windowCenter: 500, windowWidth: 1000 },
  CR: { background: 150, body: 1500, organ: 1200, bone: 3600, windowCenter: 2048, windowWidth: 4096 },
};

/**
 * A phantom: an elliptical "body" with a round "organ" whose size follows a sphere's cross-section through
 * the series (so scrolling looks like slicing) and a small dense "bone" dot. A faint texture keeps the
 * image from being flat. Values stay within 12 bits.
 */
function renderPhantom(
  modality: Modality,
  rows: number,
  columns: number,
  instanceNumber: number,
  instanceCount: number,
): Uint16Array {
  const look = APPEARANCE[modality];
  const pixels = new Uint16Array(rows * columns);
  const cx = (columns - 1) / 2;
  const cy = (rows - 1) / 2;
  const rx = columns * 0.42;
  const ry = rows * 0.36;
  // Slice position in (-1, 1): the organ is largest in the middle of the series.
  const z = instanceCount > 1 ? ((instanceNumber - 1) / (instanceCount - 1)) * 1.6 - 0.8 : 0;
  const organRadius = Math.min(rows, columns) * 0.22 * Math.sqrt(1 - z * z);
  const organX = cx - columns * 0.08;
  const boneX = cx + columns * 0.2;
  const boneRadius = Math.max(1.5, Math.min(rows, columns) * 0.06);

  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) {
      const inBody = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;
      let value = look.background;
      if (inBody) {
        value = look.body;
        if ((x - organX) ** 2 + (y - cy) ** 2 <= organRadius ** 2) value = look.organ;
        if ((x - boneX) ** 2 + (y - cy) ** 2 <= boneRadius ** 2) value = look.bone;
        value += (x * 31 + y * 17 + instanceNumber * 7) % 16;
      }
      pixels[y * columns + x] = value;
    }
  }
  return pixels;
}

// ---------------------------------------------------------------------------------------------------------
// DICOM encoding
// ---------------------------------------------------------------------------------------------------------

function modalitySpecific(study: SyntheticStudy, instanceNumber: number): NaturalizedDataset {
  const sliceLocation = (instanceNumber - 1) * 5;
  switch (study.modality) {
    case 'CT':
      return {
        ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
        KVP: 120,
        SliceThickness: 5,
        RescaleIntercept: -1024,
        RescaleSlope: 1,
        RescaleType: 'HU',
        ImagePositionPatient: [-112, -112, sliceLocation],
        ImageOrientationPatient: [1, 0, 0, 0, 1, 0],
        SliceLocation: sliceLocation,
        PixelSpacing: [3.5, 3.5],
      };
    case 'MR':
      return {
        ImageType: ['ORIGINAL', 'PRIMARY', 'M', 'ND'],
        MagneticFieldStrength: 1.5,
        SliceThickness: 5,
        ImagePositionPatient: [-112, -112, sliceLocation],
        ImageOrientationPatient: [1, 0, 0, 0, 1, 0],
        SliceLocation: sliceLocation,
        PixelSpacing: [3.5, 3.5],
      };
    case 'CR':
      return {
        ImageType: ['ORIGINAL', 'PRIMARY'],
        ViewPosition: 'PA',
        PatientOrientation: ['L', 'F'],
        ImagerPixelSpacing: [0.2, 0.2],
      };
  }
}

/** The image dataset (without file meta) in dcmjs's keyword form. */
export function buildDataset(
  patient: SyntheticPatient,
  study: SyntheticStudy,
  series: SyntheticSeries,
  instanceNumber: number,
  options: BuildInstanceOptions = {},
): NaturalizedDataset {
  const rows = options.rows ?? DEFAULT_SIZE;
  const columns = options.columns ?? DEFAULT_SIZE;
  const look = APPEARANCE[study.modality];
  const pixels = renderPhantom(study.modality, rows, columns, instanceNumber, series.instanceCount);
  const hasFrameOfReference = study.modality !== 'CR';
  return {
    SpecificCharacterSet: 'ISO_IR 100',
    SOPClassUID: SOP_CLASS_UIDS[study.modality],
    SOPInstanceUID: sopInstanceUidFor(series, instanceNumber),
    StudyDate: study.studyDate,
    SeriesDate: study.studyDate,
    ContentDate: study.studyDate,
    StudyTime: study.studyTime,
    SeriesTime: study.studyTime,
    ContentTime: study.studyTime,
    AccessionNumber: study.accessionNumber,
    Modality: study.modality,
    Manufacturer: 'UPC Synthetic',
    InstitutionName: options.institutionName ?? DEFAULT_INSTITUTION,
    ReferringPhysicianName: study.referringPhysicianName,
    StationName: `UPC-${study.modality}-1`,
    StudyDescription: study.studyDescription,
    SeriesDescription: series.seriesDescription,
    PatientName: patient.patientName,
    PatientID: patient.patientId,
    PatientBirthDate: patient.birthDate,
    PatientSex: patient.sex,
    PatientAge: ageAt(patient.birthDate, study.studyDate),
    BodyPartExamined: study.bodyPartExamined,
    StudyInstanceUID: study.studyInstanceUid,
    SeriesInstanceUID: series.seriesInstanceUid,
    StudyID: study.studyId,
    SeriesNumber: series.seriesNumber,
    InstanceNumber: instanceNumber,
    ...(hasFrameOfReference ? { FrameOfReferenceUID: series.frameOfReferenceUid } : {}),
    ...modalitySpecific(study, instanceNumber),
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: rows,
    Columns: columns,
    BitsAllocated: 16,
    BitsStored: 12,
    HighBit: 11,
    PixelRepresentation: 0,
    WindowCenter: look.windowCenter,
    WindowWidth: look.windowWidth,
    BurnedInAnnotation: 'NO',
    PixelData: [pixels.buffer],
    // PixelData's VR is OB or OW depending on context; dcmjs needs to be told.
    _vrMap: { PixelData: 'OW' },
  };
}

/** A complete DICOM Part-10 file (Explicit VR Little Endian) for one image. */
export function buildInstance(
  patient: SyntheticPatient,
  study: SyntheticStudy,
  series: SyntheticSeries,
  instanceNumber: number,
  options: BuildInstanceOptions = {},
): Uint8Array {
  const { DicomDict, DicomMetaDictionary } = dcmjsData;
  const dataset = buildDataset(patient, study, series, instanceNumber, options);
  const meta = DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: 'UPC_SYNTH_1',
  });
  const file = new DicomDict(meta);
  file.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(file.write());
}

/** Every instance of the plan, in patient/study/series/instance order, built lazily. */
export function* iterateInstances(plan: PracticePlan): Generator<SyntheticInstance> {
  const options: BuildInstanceOptions = {
    rows: plan.rows,
    columns: plan.columns,
    institutionName: plan.institutionName,
  };
  for (const patient of plan.patients) {
    for (const study of patient.studies) {
      for (const series of study.series) {
        for (let instanceNumber = 1; instanceNumber <= series.instanceCount; instanceNumber++) {
          yield {
            patient,
            study,
            series,
            instanceNumber,
            sopInstanceUid: sopInstanceUidFor(series, instanceNumber),
            bytes: buildInstance(patient, study, series, instanceNumber, options),
          };
        }
      }
    }
  }
}
