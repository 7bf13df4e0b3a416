import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { READ_ONLY } from '../../src/core/annotations.js';
import type { Module } from '../../src/core/module.js';
import { defineTool } from '../../src/core/tool.js';
import { startTestApp, type TestApp } from '../harness/app.js';

const ID_NUMBER = '8001015009087';
const FINDINGS = 'Left lower lobe consolidation.';

/** A module that declares no redactions at all: the field-level map must cover it anyway. */
function referralLettersModule(): Module {
  return {
    name: 'letters',
    tools: [
      defineTool({
        name: 'letters_get_letter',
        title: 'Get a referral letter',
        description: 'One referral letter (a test module).',
        input: z.object({}),
        output: z.object({
          patient: z.object({ sa_id_number: z.string(), name: z.string() }),
          findings: z.string(),
          pages: z.number().int(),
        }),
        permission: 'letters:read',
        annotations: READ_ONLY,
        phi: true,
        handler: async () => ({
          patient: { sa_id_number: ID_NUMBER, name: 'Test^Patient' },
          findings: FINDINGS,
          pages: 2,
        }),
      }),
    ],
  };
}

describe('field-level redaction covers every module', () => {
  let t: TestApp;
  let policyDir: string;
  beforeAll(async () => {
    // The practice's policy grants the new module's permission to the billing office; nothing else changes.
    const policy = JSON.parse(readFileSync('policy/default-policy.json', 'utf8'));
    policy.roles.billing_clerk = [...policy.roles.billing_clerk, 'letters:read'];
    policyDir = mkdtempSync(path.join(os.tmpdir(), 'upc-policy-'));
    const policyFile = path.join(policyDir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify(policy));
    t = await startTestApp({ POLICY_FILE: policyFile }, { modules: [referralLettersModule] });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(policyDir, { recursive: true, force: true });
  });

  it("masks a new module's sa_id_number and findings for a billing clerk without any declaration", async () => {
    const admin = (await t.invoke('letters_get_letter', {}, 'admin')).json().result;
    expect(admin.patient.sa_id_number).toBe(ID_NUMBER);
    expect(admin.findings).toBe(FINDINGS);

    const clerk = await t.invoke('letters_get_letter', {}, 'billing_clerk');
    expect(clerk.statusCode).toBe(200);
    const shown = clerk.json().result;
    expect(shown.patient.sa_id_number).toBe('*'.repeat(ID_NUMBER.length));
    expect(shown.findings).toMatch(/withheld/);
    expect(shown.patient.name).toBe('Test^Patient');
    expect(shown.pages).toBe(2);
  });

  it('refuses to start a server whose tool returns a sensitive-looking field the map does not cover', async () => {
    const leaky = (): Module => ({
      name: 'leaky',
      tools: [
        defineTool({
          name: 'leaky_get_spouse',
          title: 'Spouse',
          description: 'A test tool with an uncovered identifier.',
          input: z.object({}),
          output: z.object({ spouse_id_number: z.string() }),
          permission: 'leaky:read',
          annotations: READ_ONLY,
          phi: true,
          handler: async () => ({ spouse_id_number: ID_NUMBER }),
        }),
      ],
    });
    await expect(startTestApp({}, { modules: [leaky] })).rejects.toThrow(
      /leaky_get_spouse: spouse_id_number/,
    );
  });
});
