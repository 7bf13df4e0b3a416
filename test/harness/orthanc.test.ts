import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePractice, type PracticePlan, type SyntheticStudy } from '../../src/dicom/synthetic.js';
import {
  loadSyntheticPractice,
  type OrthancHandle,
  OrthancStartError,
  startOrthanc,
  uploadInstances,
} from './orthanc.js';

interface FoundStudy {
  ID: string;
  MainDicomTags: Record<string, string>;
  PatientMainDicomTags: Record<string, string>;
  Series: string[];
}

interface FoundSeries {
  ID: string;
  MainDicomTags: Record<string, string>;
  Instances: string[];
}

type DicomJson = Record<string, { vr: string; Value?: unknown[] }>;

const PRACTICE = { seed: 1234, patients: 2, studiesPerPatient: 2, seriesPerStudy: 1, instancesPerSeries: 3 };

function studies(plan: PracticePlan): SyntheticStudy[] {
  return plan.patients.flatMap((patient) => patient.studies);
}

async function findStudy(orthanc: OrthancHandle, studyInstanceUid: string): Promise<FoundStudy[]> {
  return orthanc.json<FoundStudy[]>('/tools/find', {
    body: JSON.stringify({ Level: 'Study', Query: { StudyInstanceUID: studyInstanceUid }, Expand: true }),
  });
}

describe('Orthanc harness', () => {
  let source: OrthancHandle;
  let target: OrthancHandle;
  let plan: PracticePlan;

  beforeAll(async () => {
    // The target starts first so that the source can be configured with its DICOM port.
    target = await startOrthanc();
    source = await startOrthanc({
      modalities: { target: { aet: target.aet, host: '127.0.0.1', port: target.dicomPort } },
    });
    plan = await loadSyntheticPractice(source, PRACTICE);
  });

  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('requires the generated credentials', async () => {
    const anonymous = await fetch(`${source.url}/system`);
    expect(anonymous.status).toBe(401);
    const system = await source.json<{ DicomAet: string; Version: string }>('/system');
    expect(system.DicomAet).toBe(source.aet);
    expect(system.Version).toMatch(/^1\./);
  });

  it('stores every planned patient, study and instance', async () => {
    const stats = await source.json<Record<string, number>>('/statistics');
    expect(stats).toMatchObject({ CountPatients: 2, CountStudies: 4, CountSeries: 4, CountInstances: 12 });
    // Orthanc 1.10 answers 400 to `limit` without `since` (and vice versa).
    expect((await source.request('/patients?limit=1')).status).toBe(400);
    const page = await source.json<string[]>('/patients?since=0&limit=1');
    expect(page).toHaveLength(1);
    expect(await source.json<string[]>('/patients')).toHaveLength(2);
    expect(await source.json<string[]>('/studies')).toHaveLength(4);
  });

  it('finds each study by StudyInstanceUID with the planned tags', async () => {
    for (const patient of plan.patients) {
      for (const study of patient.studies) {
        const [found, ...rest] = await findStudy(source, study.studyInstanceUid);
        expect(rest).toHaveLength(0);
        expect(found?.PatientMainDicomTags).toMatchObject({
          PatientID: patient.patientId,
          PatientName: patient.patientName,
          PatientBirthDate: patient.birthDate,
          PatientSex: patient.sex,
        });
        expect(found?.MainDicomTags).toMatchObject({
          AccessionNumber: study.accessionNumber,
          StudyDate: study.studyDate,
          StudyDescription: study.studyDescription,
        });
        const series = await source.json<FoundSeries[]>(`/studies/${found?.ID}/series`);
        expect(series.map((s) => s.MainDicomTags.Modality)).toEqual([study.modality]);
        expect(series[0]?.Instances).toHaveLength(3);
      }
    }
  });

  it('renders a PNG preview of the stored pixels', async () => {
    const [study] = await findStudy(source, studies(plan)[0]!.studyInstanceUid);
    const [series] = await source.json<FoundSeries[]>(`/studies/${study?.ID}/series`);
    const response = await source.request(`/instances/${series?.Instances[0]}/preview`, {
      accept: 'image/png',
    });
    expect(response.status).toBe(200);
    const png = response.body;
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(
      true,
    );
    expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
    expect({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) }).toEqual({
      width: plan.columns,
      height: plan.rows,
    });
  });

  it('answers DICOMweb QIDO-RS queries', async () => {
    const patient = plan.patients[0]!;
    const response = await source.request(`/dicom-web/studies?PatientID=${patient.patientId}`, {
      accept: 'application/dicom+json',
    });
    expect(response.status).toBe(200);
    const uids = response.json<DicomJson[]>().map((study) => study['0020000D']?.Value?.[0]);
    expect(uids.sort()).toEqual(patient.studies.map((s) => s.studyInstanceUid).sort());
  });

  it('is deterministic: re-loading the same seed adds nothing, another seed adds new UIDs', async () => {
    const again = await loadSyntheticPractice(source, PRACTICE);
    expect(again).toEqual(plan);
    expect(await source.json<string[]>('/studies')).toHaveLength(4);

    const other = studies(generatePractice({ ...PRACTICE, seed: 4321 })).map((s) => s.studyInstanceUid);
    const mine = new Set(studies(plan).map((s) => s.studyInstanceUid));
    expect(other.filter((uid) => mine.has(uid))).toEqual([]);
  });

  it('C-STOREs a study to a second Orthanc', async () => {
    const study = studies(plan)[1]!;
    const [found] = await findStudy(source, study.studyInstanceUid);
    const result = await source.json<{ InstancesCount: number; FailedInstancesCount: number }>(
      '/modalities/target/store',
      { body: JSON.stringify({ Resources: [found?.ID], Synchronous: true }) },
    );
    expect(result).toMatchObject({ InstancesCount: 3, FailedInstancesCount: 0 });

    const [received] = await findStudy(target, study.studyInstanceUid);
    expect(received?.MainDicomTags.AccessionNumber).toBe(study.accessionNumber);
    expect(await target.json<Record<string, number>>('/statistics')).toMatchObject({ CountInstances: 3 });
  });

  it('survives a crash and restart on the same ports and storage', async () => {
    await target.kill();
    await expect(fetch(`${target.url}/system`)).rejects.toThrow();
    await target.restart();
    expect(await target.json<Record<string, number>>('/statistics')).toMatchObject({ CountInstances: 3 });
  });

  it('counts rejected uploads instead of throwing', async () => {
    const result = await uploadInstances(source, [new TextEncoder().encode('not DICOM')]);
    expect(result).toMatchObject({ stored: 0, failed: 1 });
    expect(result.errors[0]).toMatch(/HTTP 400/);
  });
});

describe('startOrthanc', () => {
  it("fails fast with the tail of Orthanc's log", async () => {
    const failure = startOrthanc({ config: { StorageDirectory: '/proc/no-such-place/storage' } });
    await expect(failure).rejects.toThrow(OrthancStartError);
    await expect(failure).rejects.toThrow(/exited during start-up[\s\S]*no-such-place/);
  });
});
