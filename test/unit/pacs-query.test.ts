import { describe, expect, it } from 'vitest';
import { ToolError } from '../../src/core/errors.js';
import { imageInfo } from '../../src/modules/pacs/pacs.images.js';
import { isoDate, isoTime } from '../../src/modules/pacs/pacs.mapping.js';
import {
  dicomDateRangeSchema,
  modalitySchema,
  nameQuery,
  pageOf,
  patientConstraint,
} from '../../src/modules/pacs/pacs.query.js';

const scoped = (...ids: string[]) => ({ kind: 'patients' as const, patientIds: new Set(ids) });

describe('study_date', () => {
  it.each(['20240229', '20240101-20241231', '20240101-', '-20241231', '20240101-20240101'])(
    'accepts %s',
    (value) => {
      expect(dicomDateRangeSchema.parse(value)).toBe(value);
    },
  );

  it.each([
    ['20230229', /not a real calendar date/],
    ['20241301', /not a real calendar date/],
    ['20241231-20240101', /reversed/],
    ['2024-01-01', /expected YYYYMMDD/],
    ['-', /expected YYYYMMDD/],
    ['2024', /expected YYYYMMDD/],
    ['20240101-20240102-20240103', /expected YYYYMMDD/],
  ])('refuses %s', (value, message) => {
    const parsed = dicomDateRangeSchema.safeParse(value);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(message);
  });
});

describe('modality', () => {
  it('accepts DICOM codes in any case and refuses the rest', () => {
    expect(modalitySchema.parse(' ct ')).toBe('CT');
    expect(modalitySchema.parse('MG')).toBe('MG');
    expect(modalitySchema.safeParse('XRAY').success).toBe(false);
  });
});

describe('patientConstraint (scope inside the query)', () => {
  it('leaves unrestricted callers alone', () => {
    expect(patientConstraint({ kind: 'all' }, undefined)).toEqual({ kind: 'any' });
    expect(patientConstraint({ kind: 'all' }, 'P*')).toEqual({ kind: 'value', value: 'P*' });
  });

  it('turns a scope into a DICOM list match, narrowed by a wildcard filter', () => {
    expect(patientConstraint(scoped('P2', 'P1', 'Q9'), undefined)).toEqual({
      kind: 'value',
      value: 'P1\\P2\\Q9',
    });
    expect(patientConstraint(scoped('P2', 'P1', 'Q9'), 'p*')).toEqual({ kind: 'value', value: 'P1\\P2' });
    expect(patientConstraint(scoped('P1'), 'Q*')).toEqual({ kind: 'none' });
    expect(patientConstraint(scoped(), undefined)).toEqual({ kind: 'none' });
    // Ids that would be read as wildcards or list separators cannot be matched exactly: left out.
    expect(patientConstraint(scoped('A*B', 'C\\D', 'E'), undefined)).toEqual({ kind: 'value', value: 'E' });
  });

  it('refuses an exact patient outside the scope', () => {
    expect(patientConstraint(scoped('P1'), 'P1')).toEqual({ kind: 'value', value: 'P1' });
    expect(() => patientConstraint(scoped('P1'), 'P2')).toThrow(ToolError);
  });
});

describe('paging and mapping helpers', () => {
  it('computes next_offset from one extra row', () => {
    expect(pageOf([1, 2, 3], 10, 2)).toEqual({ items: [1, 2], next_offset: 12 });
    expect(pageOf([1, 2], 10, 2)).toEqual({ items: [1, 2], next_offset: null });
  });

  it('matches names anywhere unless wildcards are given', () => {
    expect(nameQuery('dlamini')).toBe('*dlamini*');
    expect(nameQuery('Dlamini^T*')).toBe('Dlamini^T*');
  });

  it('maps DICOM dates and times to ISO forms, dropping garbage', () => {
    expect(isoDate('20240618')).toBe('2024-06-18');
    expect(isoDate('')).toBeUndefined();
    expect(isoDate('2024')).toBeUndefined();
    expect(isoTime('154925.123')).toBe('15:49:25');
    expect(isoTime('1549')).toBe('15:49');
  });
});

describe('imageInfo', () => {
  it('reads PNG and JPEG sizes and rejects other bytes', () => {
    const png = Buffer.alloc(33);
    Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').copy(png);
    png.writeUInt32BE(300, 16);
    png.writeUInt32BE(200, 20);
    expect(imageInfo(png)).toEqual({ mimeType: 'image/png', width: 300, height: 200 });
    // SOI, an APP0 segment of length 4, then SOF0 with height 20, width 30.
    const jpeg = Buffer.from('ffd8ffe00004aaaaffc0000b080014001e01011100ffd9', 'hex');
    expect(imageInfo(jpeg)).toEqual({ mimeType: 'image/jpeg', width: 30, height: 20 });
    expect(imageInfo(Buffer.from('GIF89a....................'))).toBeUndefined();
  });
});
