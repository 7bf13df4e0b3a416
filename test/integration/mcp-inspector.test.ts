/**
 * A real, strict MCP client: the MCP Inspector CLI (a devDependency), over Streamable HTTP and over stdio.
 * It validates results against output schemas (on errors too) and checks tool schemas for portability, so
 * it shows what a person using a common client would see.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { REPO_ROOT } from '../harness/cli.js';
import { testNow } from '../harness/clock.js';
import {
  call,
  createOrder,
  createPhysician,
  createRoomSet,
  nextMonday,
  registerPatient,
} from '../harness/ris.js';

const INSPECTOR = path.join(
  REPO_ROOT,
  'node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js',
);

interface InspectorRun {
  code: number;
  stdout: string;
  stderr: string;
}

let t: TestApp;
let mcpUrl: string;
let home: string;

beforeAll(async () => {
  t = await startTestApp();
  mcpUrl = `${await t.app.listen({ host: '127.0.0.1', port: 0 })}/mcp`;
  home = mkdtempSync(path.join(os.tmpdir(), 'upc-inspector-'));
});
afterAll(async () => {
  await t?.close();
  rmSync(home, { recursive: true, force: true });
});

/** `mcp-inspector --cli ...` with a private HOME (its catalog) and the repository's Node. */
function inspector(args: string[]): Promise<InspectorRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [INSPECTOR, '--cli', ...args],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', HOME: home }, timeout: 90_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function overHttp(role: 'admin' | 'receptionist', args: string[]): Promise<InspectorRun> {
  return inspector([mcpUrl, '--header', `Authorization: Bearer ${await t.tokenFor(role)}`, ...args]);
}

/** What the Inspector printed for a tool call: the result, and our error body when it is an error. */
function shown(run: InspectorRun) {
  const result = JSON.parse(run.stdout) as {
    isError?: boolean;
    content: { type: string; text: string }[];
    structuredContent?: unknown;
  };
  const text = result.content.find((block) => block.type === 'text')?.text ?? '';
  return { result, error: result.isError ? JSON.parse(text) : undefined };
}

async function bookedAppointment(): Promise<{ id: number; patientName: string }> {
  const { practiceNumber } = await createPhysician(t);
  const set = await createRoomSet(t, { rooms: 1 });
  const patient = await registerPatient(t, { family_name: 'Mokoena', given_names: 'Thandi' });
  const accession = await createOrder(t, patient, set.procedureCode, practiceNumber);
  const booked = await call(
    t,
    'ris_schedule_appointment',
    { accession_number: accession, start_time: `${nextMonday()}T09:30` },
    'receptionist',
  );
  return { id: booked.result.appointment.appointment_id, patientName: 'Thandi Mokoena' };
}

describe('MCP Inspector CLI over Streamable HTTP', { timeout: 120_000 }, () => {
  it('lists the tools with no schema-portability problem', async () => {
    const run = await overHttp('admin', ['--method', 'tools/list', '--strict']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/Warning|Error/);
    const { tools } = JSON.parse(run.stdout) as { tools: { name: string }[] };
    expect(tools.map((tool) => tool.name)).toContain('ris_cancel_appointment');
  });

  it('shows a tool error as our message, not as a schema complaint', async () => {
    const run = await overHttp('admin', [
      '--method',
      'tools/call',
      '--tool-name',
      'ris_get_patient',
      '--tool-arg',
      'patient_id=UPC999999',
    ]);
    expect(run.stdout).not.toMatch(/must have required property/);
    const { error } = shown(run);
    expect(error).toMatchObject({
      error_code: 'NOT_FOUND',
      message: 'No patient UPC999999. Search with ris_search_patients.',
    });
  });

  it('completes a confirmation with the two-step token, the question naming the patient and the change', async () => {
    const appointment = await bookedAppointment();
    const args = [
      '--method',
      'tools/call',
      '--tool-name',
      'ris_cancel_appointment',
      '--tool-arg',
      `appointment_id=${appointment.id}`,
      'reason=Patient unwell',
    ];
    const first = shown(await overHttp('receptionist', args));
    expect(first.error.error_code).toBe('CONFIRMATION_REQUIRED');
    expect(first.error.details.summary).toMatch(
      new RegExp(`^Cancel ${appointment.patientName}'s test procedure on Mon \\d+ \\w+ \\d{4} 09:30 in `),
    );
    // The expiry is a practice time with its offset, five minutes after the product clock's now.
    expect(first.error.details.expires_at).toMatch(/\+02:00$/);
    expect(new Date(first.error.details.expires_at).getTime()).toBe(testNow().getTime() + 5 * 60_000);
    const second = shown(
      await overHttp('receptionist', [
        ...args,
        `confirmation_token=${first.error.details.confirmation_token}`,
      ]),
    );
    expect(second.error).toBeUndefined();
    expect(second.result.structuredContent).toMatchObject({
      appointment: { appointment_id: appointment.id, status: 'CANCELLED' },
    });
  });
});

describe('MCP Inspector CLI over stdio', { timeout: 120_000 }, () => {
  it('runs upc-mcp stdio: tools pass the portability check and an error shows its message', async () => {
    const env = [
      `UPC_TOKEN=${await t.tokenFor('admin')}`,
      `DATABASE_URL=${t.config.DATABASE_URL}`,
      `JWT_SECRET_KEY=${t.config.JWT_SECRET_KEY}`,
      'ORTHANC_URL=http://127.0.0.1:1',
      'LOG_LEVEL=warn',
      `DATA_DIR=${home}`,
      `PATH=${process.env.PATH ?? ''}`,
    ].flatMap((pair) => ['-e', pair]);
    // After "--": the server command (its own flags are not the Inspector's).
    const command = ['--', process.execPath, '--import', 'tsx', 'src/main.ts', 'stdio'];
    const list = await inspector([
      ...env,
      '--cwd',
      REPO_ROOT,
      '--method',
      'tools/list',
      '--strict',
      ...command,
    ]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).not.toMatch(/Warning/);
    const failed = await inspector([
      ...env,
      '--cwd',
      REPO_ROOT,
      '--method',
      'tools/call',
      '--tool-name',
      'ris_get_patient',
      '--tool-arg',
      'patient_id=UPC999998',
      ...command,
    ]);
    expect(shown(failed).error).toMatchObject({
      error_code: 'NOT_FOUND',
      message: 'No patient UPC999998. Search with ris_search_patients.',
    });
  });
});
