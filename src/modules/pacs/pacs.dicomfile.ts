/** Checks an uploaded file is DICOM Part-10 and reads the identifiers we report, before Orthanc sees it. */
// dcmjs is loaded on the first upload, not at start: it is large, and every CLI command imports the app.
let dcmjs: Promise<typeof import('dcmjs')> | undefined;

export interface DicomIdentity {
  patientId: string;
  studyInstanceUid: string;
  sopInstanceUid: string;
}

export type DicomCheck = { ok: true; identity: DicomIdentity } | { ok: false; error: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64: Buffer.from() silently skips garbage, which would turn a typo into a "corrupt file". */
export function decodeBase64(value: string): Buffer | undefined {
  const compact = value.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

function firstString(dataset: Record<string, { Value?: unknown[] }>, tag: string): string {
  const value = dataset[tag]?.Value?.[0];
  return typeof value === 'string' ? value.trim() : '';
}

/**
 * A Part-10 file starts with a 128-byte preamble and `DICM`. The header is parsed up to the pixel data
 * (cheap) so that a truncated or garbled file is reported per file instead of reaching the PACS.
 */
export async function checkDicomFile(bytes: Buffer): Promise<DicomCheck> {
  if (bytes.length < 132 || bytes.toString('latin1', 128, 132) !== 'DICM') {
    return { ok: false, error: 'not a DICOM Part-10 file (no "DICM" after the 128-byte preamble)' };
  }
  dcmjs ??= import('dcmjs');
  const { data } = await dcmjs;
  try {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const file = data.DicomMessage.readFile(buffer, {
      untilTag: '7FE00010',
      includeUntilTagValue: false,
    });
    const identity = {
      patientId: firstString(file.dict, '00100020'),
      studyInstanceUid: firstString(file.dict, '0020000D'),
      sopInstanceUid: firstString(file.dict, '00080018'),
    };
    if (!identity.studyInstanceUid || !identity.sopInstanceUid) {
      return { ok: false, error: 'the DICOM header has no StudyInstanceUID or SOPInstanceUID' };
    }
    return { ok: true, identity };
  } catch (error) {
    return { ok: false, error: `the DICOM header cannot be read: ${(error as Error).message.slice(0, 200)}` };
  }
}
