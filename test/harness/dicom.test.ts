import { data as dcmjsData } from 'dcmjs';
import { describe, expect, it } from 'vitest';
import {
  buildInstance,
  createRng,
  EXPLICIT_VR_LITTLE_ENDIAN,
  generatePractice,
  iterateInstances,
  type Modality,
  SOP_CLASS_UIDS,
} from '../../src/dicom/synthetic.js';

const UID = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/;
const DATE = /^(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/;

function parse(bytes: Uint8Array) {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const file = dcmjsData.DicomMessage.readFile(buffer);
  return {
    meta: dcmjsData.DicomMetaDictionary.naturalizeDataset(file.meta),
    dataset: dcmjsData.DicomMetaDictionary.naturalizeDataset(file.dict),
  };
}

function allUids(plan: ReturnType<typeof generatePractice>): string[] {
  return plan.patients.flatMap((patient) =>
    patient.studies.flatMap((study) => [
      study.studyInstanceUid,
      ...study.series.flatMap((series) => [series.seriesInstanceUid, series.frameOfReferenceUid]),
    ]),
  );
}

describe('createRng', () => {
  it('is deterministic and stays in [0, 1)', () => {
    const a = createRng(7);
    const b = createRng(7);
    const values = Array.from({ length: 1000 }, () => a());
    expect(values).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(createRng(8)()).not.toBe(values[0]);
  });
});

describe('generatePractice', () => {
  const options = { seed: 42, patients: 20, studiesPerPatient: 3, seriesPerStudy: 2, instancesPerSeries: 4 };

  it('plans the requested shape', () => {
    const plan = generatePractice(options);
    expect(plan.counts).toEqual({ patients: 20, studies: 60, series: 120, instances: 480 });
    expect(plan.patients).toHaveLength(20);
    for (const patient of plan.patients) {
      expect(patient.studies).toHaveLength(3);
      for (const study of patient.studies) expect(study.series).toHaveLength(2);
    }
  });

  it('is deterministic for a seed and differs between seeds', () => {
    expect(generatePractice(options)).toEqual(generatePractice(options));
    const other = allUids(generatePractice({ ...options, seed: 43 }));
    const mine = new Set(allUids(generatePractice(options)));
    expect(other.some((uid) => mine.has(uid))).toBe(false);
  });

  it('gives new UIDs when the same seed is used with different image options', () => {
    const mine = new Set(allUids(generatePractice(options)));
    const bigger = allUids(generatePractice({ ...options, rows: 128, columns: 128 }));
    expect(bigger.some((uid) => mine.has(uid))).toBe(false);
  });

  it('keeps existing patients stable when the practice grows', () => {
    const small = generatePractice({ ...options, patients: 3 });
    const large = generatePractice({ ...options, patients: 30 });
    expect(large.patients.slice(0, 3)).toEqual(small.patients);
  });

  it('produces valid, unique identifiers and plausible demographics', () => {
    const plan = generatePractice(options);
    const uids = allUids(plan);
    expect(new Set(uids).size).toBe(uids.length);
    for (const uid of uids) {
      expect(uid).toMatch(UID);
      expect(uid.length).toBeLessThanOrEqual(64);
    }
    const patientIds = plan.patients.map((p) => p.patientId);
    expect(new Set(patientIds).size).toBe(patientIds.length);
    const accessions = plan.patients.flatMap((p) => p.studies.map((s) => s.accessionNumber));
    expect(new Set(accessions).size).toBe(accessions.length);
    for (const patient of plan.patients) {
      expect(patient.patientId).toMatch(/^UPC\d{6}$/);
      expect(patient.patientName).toMatch(/^[A-Za-z ]+\^[A-Za-z]+$/);
      expect(['M', 'F']).toContain(patient.sex);
      expect(patient.birthDate).toMatch(DATE);
      for (const study of patient.studies) {
        expect(study.accessionNumber).toMatch(/^ACC\d{8}$/);
        expect(study.studyDate).toMatch(DATE);
        expect(study.studyTime).toMatch(/^(0[7-9]|1[0-7])[0-5]\d[0-5]\d$/);
        expect(study.studyDate > patient.birthDate).toBe(true);
        expect(['CT', 'MR', 'CR']).toContain(study.modality);
      }
    }
  });

  it('rejects nonsense sizes', () => {
    expect(() => generatePractice({ ...options, patients: -1 })).toThrow(RangeError);
    expect(() => generatePractice({ ...options, instancesPerSeries: 0 })).toThrow(RangeError);
    expect(() => generatePractice({ ...options, rows: 2.5 })).toThrow(RangeError);
  });
});

describe('buildInstance', () => {
  it.each<Modality>(['CT', 'MR', 'CR'])('writes a valid Part-10 %s image', (modality) => {
    const plan = generatePractice({ seed: 5, patients: 1, studiesPerPatient: 1, modalities: [modality] });
    const patient = plan.patients[0]!;
    const study = patient.studies[0]!;
    const series = study.series[0]!;
    const bytes = buildInstance(patient, study, series, 2, { rows: 32, columns: 48 });

    expect(Buffer.from(bytes.subarray(128, 132)).toString('latin1')).toBe('DICM');
    const { meta, dataset } = parse(bytes);
    expect(meta.TransferSyntaxUID).toBe(EXPLICIT_VR_LITTLE_ENDIAN);
    expect(meta.MediaStorageSOPClassUID).toBe(SOP_CLASS_UIDS[modality]);
    expect(meta.MediaStorageSOPInstanceUID).toBe(dataset.SOPInstanceUID);
    expect(dataset).toMatchObject({
      SOPClassUID: SOP_CLASS_UIDS[modality],
      PatientID: patient.patientId,
      PatientBirthDate: patient.birthDate,
      PatientSex: patient.sex,
      StudyInstanceUID: study.studyInstanceUid,
      SeriesInstanceUID: series.seriesInstanceUid,
      StudyDate: study.studyDate,
      StudyTime: study.studyTime,
      AccessionNumber: study.accessionNumber,
      Modality: modality,
      StudyDescription: study.studyDescription,
      SeriesDescription: series.seriesDescription,
      SeriesNumber: 1,
      InstanceNumber: 2,
      BodyPartExamined: study.bodyPartExamined,
      InstitutionName: plan.institutionName,
      Rows: 32,
      Columns: 48,
      BitsAllocated: 16,
      BitsStored: 12,
      HighBit: 11,
      PixelRepresentation: 0,
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
    });
    // PN values naturalise to [{ Alphabetic }], whose string form is the PN text.
    expect(String(dataset.PatientName)).toBe(patient.patientName);
    expect(String(dataset.ReferringPhysicianName)).toBe(study.referringPhysicianName);
    expect(typeof dataset.WindowCenter).toBe('number');
    expect(typeof dataset.WindowWidth).toBe('number');
    if (modality === 'CT') expect(dataset).toMatchObject({ RescaleIntercept: -1024, RescaleSlope: 1 });

    const [pixelData] = dataset.PixelData as ArrayBuffer[];
    expect(pixelData?.byteLength).toBe(32 * 48 * 2);
    const pixels = new Uint16Array(pixelData!);
    expect(Math.max(...pixels)).toBeLessThanOrEqual(4095);
    expect(new Set(pixels).size).toBeGreaterThan(3);
  });

  it('is byte-for-byte deterministic', () => {
    const plan = generatePractice({ seed: 9, patients: 1, studiesPerPatient: 1 });
    const patient = plan.patients[0]!;
    const study = patient.studies[0]!;
    const a = buildInstance(patient, study, study.series[0]!, 1);
    const b = buildInstance(patient, study, study.series[0]!, 1);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });
});

describe('iterateInstances', () => {
  it('yields every instance with unique SOP Instance UIDs', () => {
    const plan = generatePractice({
      seed: 77,
      patients: 10,
      studiesPerPatient: 3,
      seriesPerStudy: 2,
      instancesPerSeries: 5,
    });
    const seen = new Set<string>();
    let count = 0;
    for (const instance of iterateInstances(plan)) {
      count += 1;
      seen.add(instance.sopInstanceUid);
      expect(instance.sopInstanceUid).toMatch(UID);
      expect(instance.bytes.byteLength).toBeGreaterThan(64 * 64 * 2);
    }
    expect(count).toBe(300);
    expect(seen.size).toBe(300);
  });
});
