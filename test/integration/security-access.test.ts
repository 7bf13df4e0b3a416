import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ROLES } from '../../src/core/context.js';
import { assertInScope } from '../../src/core/scope.js';
import { defineTool } from '../../src/core/tool.js';
import { SIGN_IN_REFUSED } from '../../src/security/login.js';
import { hashPassword } from '../../src/security/passwords.js';
import { DEFAULT_POLICY_FILE, Policy } from '../../src/security/policy.js';
import { WITHHELD } from '../../src/security/redaction.js';
import { insertUser, securityDb, updateUser } from '../../src/security/users.store.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { testNow } from '../harness/clock.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'upc-policy-'));
const policyFile = path.join(dir, 'policy.json');
const policy = JSON.parse(readFileSync(DEFAULT_POLICY_FILE, 'utf8'));
policy.rate_limits.classes.medical_aid.limit = 3;
policy.rate_limits.login = { limit: 10, window_seconds: 900, lock_after_failures: 5, lock_minutes: 15 };
writeFileSync(policyFile, JSON.stringify(policy));

let t: TestApp;

const PATIENT = {
  patient_id: 'UPC000777',
  patient_name: 'Dlamini^Thandi',
  id_number: '8001015009087',
  member_number: 'DISC-99887766',
  findings: 'No acute abnormality.',
};

beforeAll(async () => {
  t = await startTestApp({ POLICY_FILE: policyFile });
  const registry = t.app.parts.registry;
  registry.register(
    defineTool({
      name: 'test_get_patient_record',
      title: 'Patient record (fixture)',
      description: 'Returns sensitive fields of one patient, scope-checked (test fixture).',
      input: z.object({ patient_id: z.string() }),
      output: z.object({
        patient_id: z.string(),
        patient_name: z.string(),
        id_number: z.string(),
        member_number: z.string(),
        findings: z.string(),
      }),
      permission: 'ris:read',
      annotations: { readOnlyHint: true },
      phi: true,
      handler: async (input, ctx) => {
        assertInScope(await ctx.patientScope(), input.patient_id);
        ctx.touchPatients(input.patient_id);
        return { ...PATIENT, patient_id: input.patient_id };
      },
    }),
    'testrecords',
  );
  t.app.parts.redactor.declare('testrecords', {
    id_number: 'national_id',
    member_number: 'member_number',
    findings: 'clinical_text',
  });
  registry.register(
    defineTool({
      name: 'test_validate_member',
      title: 'Medical aid check (fixture)',
      description: 'Stands in for a medical-aid call, to exercise its rate-limit class (test fixture).',
      input: z.object({}),
      output: z.object({ ok: z.boolean() }),
      permission: 'billing:validate',
      annotations: { readOnlyHint: true },
      phi: false,
      handler: async () => ({ ok: true }),
    }),
    'testbilling',
  );
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('every tool as every role', () => {
  it('allows exactly what the policy grants, for every registered tool (the table comes from the registry)', async () => {
    const loaded = Policy.fromFile(policyFile);
    const mismatches: string[] = [];
    for (const { tool } of t.app.parts.registry.list()) {
      const parameters = tool.examples?.[0]?.parameters ?? {};
      for (const role of ROLES) {
        const response = await t.invoke(tool.name, parameters as Record<string, unknown>, role);
        const forbidden = response.statusCode === 403 && response.json().error.error_code === 'FORBIDDEN';
        // The tool's permission, and those its input asks for (the status a status change sets).
        const needs = [
          tool.permission,
          ...(tool.inputPermissions?.(tool.input.parse(parameters)) ?? []).map((n) => n.permission),
        ];
        if (forbidden === needs.every((permission) => loaded.allows(role, permission))) {
          mismatches.push(
            `${role} → ${tool.name}: got ${response.statusCode} ${response.body.slice(0, 200)}`,
          );
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('an unknown permission is denied to everyone but a full wildcard', () => {
    const loaded = Policy.fromFile(policyFile);
    for (const role of ROLES) expect(loaded.allows(role, 'nuclear:launch')).toBe(role === 'admin');
  });

  it('a broken policy file stops start-up with a clear message', () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ roles: { admin: ['everything'] } }));
    expect(() => Policy.fromFile(bad)).toThrow(/roles.admin.0: must be module:action/);
  });
});

describe('redaction by role', () => {
  const cases = [
    [
      'radiologist',
      { findings: PATIENT.findings, id_number: '*************', member_number: '*********7766' },
    ],
    [
      'receptionist',
      { findings: WITHHELD, id_number: PATIENT.id_number, member_number: PATIENT.member_number },
    ],
    [
      'billing_clerk',
      { findings: WITHHELD, id_number: '*************', member_number: PATIENT.member_number },
    ],
    [
      'admin',
      { findings: PATIENT.findings, id_number: PATIENT.id_number, member_number: PATIENT.member_number },
    ],
  ] as const;
  it.each(cases)('%s sees what the policy lets it see', async (role, expected) => {
    const response = await t.invoke('test_get_patient_record', { patient_id: 'UPC000777' }, role);
    expect(response.statusCode).toBe(200);
    expect(response.json().result).toMatchObject({ patient_name: PATIENT.patient_name, ...expected });
  });
});

describe('patient scope', () => {
  it('a referring doctor sees token-listed and assigned patients only; others are OUT_OF_SCOPE and audited', async () => {
    const token = await t.tokenFor('referring_doctor', { subject: 'dr-pillay', patients: ['UPC000777'] });
    expect(
      (await t.invoke('test_get_patient_record', { patient_id: 'UPC000777' }, { token })).statusCode,
    ).toBe(200);
    const other = await t.invoke('test_get_patient_record', { patient_id: 'UPC000888' }, { token });
    expect(other.statusCode).toBe(403);
    expect(other.json().error.error_code).toBe('OUT_OF_SCOPE');
    const audit = (
      await t.invoke('admin_search_audit', { patient_id: 'UPC000888', outcome: 'denied' }, 'auditor')
    ).json().result;
    expect(audit.events[0]).toMatchObject({ actor_subject: 'dr-pillay', error_code: 'OUT_OF_SCOPE' });

    const assigned = await t.invoke(
      'admin_assign_patient',
      { subject: 'dr-pillay', patient_id: 'UPC000888', days: 7, reason: 'second opinion' },
      'admin',
    );
    expect(assigned.statusCode).toBe(200);
    expect(
      (await t.invoke('test_get_patient_record', { patient_id: 'UPC000888' }, { token })).statusCode,
    ).toBe(200);

    // The assignment ends after its 7 days by the product clock, not the machine's.
    t.clock.advance(7 * 86_400_000 + 60_000);
    try {
      const expired = await t.invoke('test_get_patient_record', { patient_id: 'UPC000888' }, { token });
      expect(expired.json().error?.error_code).toBe('OUT_OF_SCOPE');
    } finally {
      t.clock.set(testNow());
    }
  });
});

describe('rate limits', () => {
  it('answers 429 RATE_LIMITED with Retry-After past a class limit, per user', async () => {
    const token = await t.tokenFor('receptionist', { subject: `rl-${randomUUID()}` });
    const codes: number[] = [];
    let last: Awaited<ReturnType<TestApp['invoke']>> | undefined;
    for (let i = 0; i < 5; i++) {
      last = await t.invoke('test_validate_member', {}, { token });
      codes.push(last.statusCode);
    }
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    expect(last?.json().error.error_code).toBe('RATE_LIMITED');
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
    const someoneElse = await t.tokenFor('receptionist', { subject: `rl-${randomUUID()}` });
    expect((await t.invoke('test_validate_member', {}, { token: someoneElse })).statusCode).toBe(200);
  });

  it('shares counters between replicas through Redis when REDIS_URL is set', async () => {
    const a = await startTestApp({ POLICY_FILE: policyFile, REDIS_URL: 'redis://127.0.0.1:6379' });
    const b = await startTestApp({ POLICY_FILE: policyFile, REDIS_URL: 'redis://127.0.0.1:6379' });
    for (const app of [a, b])
      app.app.parts.registry.register(t.app.parts.registry.get('test_validate_member')!.tool, 'testbilling');
    try {
      const subject = `redis-${randomUUID()}`;
      const codes = [];
      for (const app of [a, b, a, b]) {
        const token = await app.tokenFor('receptionist', { subject });
        codes.push((await app.invoke('test_validate_member', {}, { token })).statusCode);
      }
      expect(codes).toEqual([200, 200, 200, 429]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('built-in users', () => {
  beforeAll(async () => {
    const db = securityDb(t.app.parts.database.db);
    await insertUser(db, {
      username: 'thandi',
      role: 'receptionist',
      passwordHash: await hashPassword('correct horse battery'),
    });
    await insertUser(db, {
      username: 'sipho',
      role: 'radiologist',
      passwordHash: await hashPassword('another long password'),
    });
  });

  const login = (username: string, password: string, ip = '10.0.0.1') =>
    t.app.inject({ method: 'POST', url: '/auth/token', payload: { username, password }, remoteAddress: ip });

  it('issues a 60-minute bearer token that the server accepts', async () => {
    const response = await login('thandi', 'correct horse battery');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 3600 });
    const call = await t.invoke('test_validate_member', {}, { token: body.access_token });
    expect(call.statusCode).toBe(200);
    const audit = (
      await t.invoke('admin_search_audit', { tool: 'auth_login', actor: 'thandi' }, 'auditor')
    ).json().result;
    expect(audit.events[0]).toMatchObject({ outcome: 'success', actor_role: 'receptionist' });
  });

  it('answers unknown, wrong-password and slowed-down names alike; an administrator can unlock', async () => {
    const answers = async (username: string, password: string) => {
      const codes: number[] = [];
      const bodies: string[] = [];
      for (let i = 0; i < 7; i++) {
        const response = await login(username, password, `10.0.${username.length}.${i}`);
        codes.push(response.statusCode);
        bodies.push(response.json().error.message.replace(/\d+ s\./, 'N s.'));
      }
      return { codes, bodies };
    };
    // An account that exists and a name that does not: the same answers, attempt for attempt.
    const real = await answers('sipho', 'wrong');
    const ghost = await answers('nobody', 'wrong');
    expect(real).toEqual(ghost);
    expect(real.codes).toEqual([401, 401, 401, 401, 401, 429, 429]);
    expect(real.bodies[0]).toBe(SIGN_IN_REFUSED);
    // Slowed down: even the right password waits, and says only that.
    const waiting = await login('sipho', 'another long password', '10.0.2.1');
    expect(waiting.statusCode).toBe(429);
    expect(Number(waiting.headers['retry-after'])).toBeGreaterThan(0);
    expect(waiting.json().error.message).not.toMatch(/locked|exist|account/);
    // A person can unlock it.
    await updateUser(securityDb(t.app.parts.database.db), 'sipho', { unlock: true });
    expect((await login('sipho', 'another long password', '10.0.2.1')).statusCode).toBe(200);
  });

  it('a few wrong guesses from a shared address do not lock out the practice behind it', async () => {
    for (let i = 0; i < 12; i++) expect((await login(`guess${i}`, 'nope', '10.9.9.9')).statusCode).toBe(401);
    expect((await login('thandi', 'correct horse battery', '10.9.9.9')).statusCode).toBe(200);
  });

  it('slows an address down after many failures (password spraying)', async () => {
    const sprayPolicy = path.join(dir, 'spray-policy.json');
    writeFileSync(
      sprayPolicy,
      JSON.stringify({
        ...policy,
        rate_limits: { ...policy.rate_limits, login: { ...policy.rate_limits.login, address_limit: 3 } },
      }),
    );
    const limited = await startTestApp({ POLICY_FILE: sprayPolicy });
    try {
      const spray = (username: string) =>
        limited.app.inject({
          method: 'POST',
          url: '/auth/token',
          payload: { username, password: 'Summer2026!' },
          remoteAddress: '10.7.7.7',
        });
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await spray(`staff${i}`)).statusCode);
      expect(codes).toEqual([401, 401, 401, 429]);
    } finally {
      await limited.close();
    }
  });
});
