import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { ERROR_CODES, httpStatusOf } from '../../src/core/errors.js';

it('docs/API.md lists exactly the error codes the code returns, with their HTTP statuses', () => {
  const doc = readFileSync(new URL('../../docs/API.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map((m) => [m[1], Number(m[2])]);
  expect(rows).toEqual(ERROR_CODES.map((code) => [code, httpStatusOf(code)]));
});
