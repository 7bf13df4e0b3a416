/**
 * Minimal typings for the parts of dcmjs (which ships no types) that this project uses.
 * Extend as needed; keep it honest: only declare what has been checked against dcmjs 0.51.
 */
declare module 'dcmjs' {
  /** One element in dcmjs's "denaturalized" form (close to DICOM JSON), keyed by 8 hex digit tag. */
  export interface DicomElement {
    vr: string;
    Value?: unknown[];
  }

  /** Dataset keyed by tag, e.g. `{ '00100010': { vr: 'PN', Value: [...] } }`. */
  export type DenaturalizedDataset = Record<string, DicomElement>;

  /**
   * Dataset keyed by DICOM keyword, e.g. `{ PatientName: 'Dlamini^Thandi' }`. `_vrMap` tells dcmjs the VR
   * of tags whose VR depends on context (PixelData is OB or OW).
   */
  export type NaturalizedDataset = Record<string, unknown> & { _vrMap?: Record<string, string> };

  export interface ReadFileOptions {
    ignoreErrors?: boolean;
    untilTag?: string | null;
    includeUntilTagValue?: boolean;
    noCopy?: boolean;
    forceStoreRaw?: boolean;
  }

  /** A Part-10 file in memory: file meta group plus dataset. */
  export interface DicomDict {
    meta: DenaturalizedDataset;
    dict: DenaturalizedDataset;
    /** Serialises as a Part-10 file: 128 byte preamble, `DICM`, file meta group, then the dataset. */
    write(options?: { allowInvalidVRLength?: boolean }): ArrayBuffer;
  }

  // Only `data` (and the default export) exist at runtime; the class and helpers live under it.
  export const data: {
    DicomDict: new (meta: DenaturalizedDataset) => DicomDict;
    DicomMessage: {
      readFile(buffer: ArrayBuffer, options?: ReadFileOptions): DicomDict;
    };
    DicomMetaDictionary: {
      naturalizeDataset(dataset: DenaturalizedDataset): NaturalizedDataset;
      denaturalizeDataset(dataset: NaturalizedDataset): DenaturalizedDataset;
    };
  };

  const dcmjs: { data: typeof data };
  export default dcmjs;
}
