import { describe, expect, it } from 'vitest';
import {
  canTransition,
  contentHash,
  missingForSignature,
  type SignedContent,
  TRANSITIONS,
} from '../../src/modules/reporting/reporting.rules.js';
import { REPORT_STATUSES } from '../../src/modules/reporting/reporting.tables.js';

describe('report workflow (FHIR DiagnosticReport.status)', () => {
  const legal = new Set([
    'draft→preliminary',
    'draft→final',
    'draft→cancelled',
    'preliminary→final',
    'preliminary→cancelled',
    ...['final', 'amended', 'appended', 'corrected'].flatMap((from) =>
      ['appended', 'corrected', 'entered-in-error'].map((to) => `${from}→${to}`),
    ),
  ]);
  const pairs = REPORT_STATUSES.flatMap((from) => REPORT_STATUSES.map((to) => ({ from, to })));
  it.each(pairs)('$from → $to', ({ from, to }) => {
    expect(canTransition(from, to)).toBe(legal.has(`${from}→${to}`));
  });
  it('never leads from a signed status back to an editable one', () => {
    for (const from of ['final', 'amended', 'appended', 'corrected'] as const)
      expect(TRANSITIONS[from].some((to) => to === 'draft' || to === 'preliminary')).toBe(false);
  });
});

describe('signing rules', () => {
  const sections = {
    clinical_history: '',
    technique: '',
    comparison: '',
    findings: 'F.',
    impression: '  ',
    recommendations: '',
  };
  it('names the empty sections a signature needs', () => {
    expect(missingForSignature(sections)).toEqual(['impression']);
  });
  it('hashes the content, not the order of its keys, and any change changes the hash', () => {
    const content: SignedContent = {
      report_id: 1,
      accession_number: 'ACC1',
      patient_id: 'P1',
      version: 2,
      status: 'final',
      sections,
      addendum: null,
      critical_finding: false,
      icd10_codes: ['J18.9'],
      reason: null,
      predecessor_version: 1,
      signed_by: 'dr',
      signed_at: '2026-11-30T06:30:00.000Z',
    };
    const reordered = Object.fromEntries(Object.entries(content).reverse()) as unknown as SignedContent;
    expect(contentHash(reordered)).toBe(contentHash(content));
    expect(contentHash(content)).toMatch(/^[0-9a-f]{64}$/);
    expect(contentHash({ ...content, sections: { ...sections, findings: 'F!' } })).not.toBe(
      contentHash(content),
    );
  });
});
