import { generatePractice, iterateInstances, type PracticePlan } from '../../src/dicom/synthetic.js';
import { type OrthancHandle, uploadInstances } from '../../test/harness/orthanc.js';
import { progress, progressDone } from './report.js';

/** A practice of `studies` small studies (1 series × 1 instance × 32×32 px each) to upload in stages. */
export function smallStudyPlan(studies: number, seed = 2026): PracticePlan {
  return generatePractice({
    seed,
    patients: Math.ceil(studies / 4),
    studiesPerPatient: 4,
    seriesPerStudy: 1,
    instancesPerSeries: 1,
    rows: 32,
    columns: 32,
  });
}

/**
 * Uploads the plan's instances in order until `upTo` have been stored (one instance is one study here),
 * printing progress; returns the seconds it took. Call again with a larger `upTo` to grow the archive.
 */
export class StagedLoader {
  readonly #instances: Iterator<{ bytes: Uint8Array }>;
  #stored = 0;

  constructor(
    private readonly orthanc: OrthancHandle,
    plan: PracticePlan,
  ) {
    this.#instances = iterateInstances(plan)[Symbol.iterator]();
  }

  get stored(): number {
    return this.#stored;
  }

  async loadUpTo(upTo: number, concurrency = 4): Promise<number> {
    const started = performance.now();
    const first = this.#stored;
    const chunk = 250;
    while (this.#stored < upTo) {
      const files: Uint8Array[] = [];
      while (files.length < Math.min(chunk, upTo - this.#stored)) {
        const next = this.#instances.next();
        if (next.done) break;
        files.push(next.value.bytes);
      }
      if (files.length === 0) break;
      const result = await uploadInstances(this.orthanc, files, concurrency);
      if (result.failed > 0) throw new Error(`upload failed: ${result.errors.join('; ')}`);
      this.#stored += result.stored;
      const seconds = (performance.now() - started) / 1000;
      progress(
        `  loading studies into Orthanc: ${this.#stored}/${upTo} (${((this.#stored - first) / Math.max(seconds, 0.001)).toFixed(0)}/s)`,
      );
    }
    const seconds = (performance.now() - started) / 1000;
    progressDone(`  Orthanc holds ${this.#stored} studies (this stage took ${seconds.toFixed(1)} s)`);
    return seconds;
  }
}
