import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMrrt } from '../../src/modules/reporting/reporting.templates.mrrt.js';
import { demoTemplateFiles } from '../../src/modules/reporting/reporting.templates.tools.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import {
  type Called,
  call,
  callConfirmed,
  createOrder,
  createPhysician,
  createRoomSet,
  registerPatient,
} from '../harness/ris.js';

// Report templates through the front door on a real PostgreSQL database (docs/REPORTING.md "Templates").
let t: TestApp;
let procedureCode: string;
let practice: string;
let patient: string;

beforeAll(async () => {
  t = await startTestApp();
  practice = (await createPhysician(t, 'dr-templates')).practiceNumber;
  patient = await registerPatient(t);
  procedureCode = (
    await createRoomSet(t, {
      rooms: 1,
      opens: '00:00',
      closes: '24:00',
      weekdays: [1, 2, 3, 4, 5, 6, 7],
      durationMinutes: 5,
      gridMinutes: 5,
    })
  ).procedureCode;
});
afterAll(async () => {
  await t?.close();
});

function ok(res: Called): Called {
  expect(res.status, JSON.stringify(res.error)).toBe(200);
  return res;
}

/** A report for a new order, made from a template (and macro). */
async function fromTemplate(templateId: string, extra: Record<string, unknown> = {}) {
  const accession = await createOrder(t, patient, procedureCode, practice);
  const res = ok(
    await call(
      t,
      'reporting_generate_report',
      { accession_number: accession, template_id: templateId, ...extra },
      'radiologist',
    ),
  );
  return res.result.report;
}

const DEMO_IDS = [
  'upc-ct-abdomen-pelvis',
  'upc-ct-chest',
  'upc-ct-head',
  'upc-cxr-chest',
  'upc-mg-breast',
  'upc-mr-brain',
  'upc-us-abdomen',
];

describe('demo templates', () => {
  it('load into the empty table at start, one per demo file, filterable by modality and body part', async () => {
    const all = ok(await call(t, 'reporting_get_templates', {}, 'transcriptionist')).result.templates;
    expect(all.map((x: { template_id: string }) => x.template_id).sort()).toEqual(
      expect.arrayContaining(DEMO_IDS),
    );
    expect(demoTemplateFiles()).toHaveLength(DEMO_IDS.length);
    const ctChest = ok(
      await call(t, 'reporting_get_templates', { modality: 'ct', body_part: 'chest' }, 'radiologist'),
    ).result.templates;
    expect(ctChest.map((x: { template_id: string }) => x.template_id)).toEqual(['upc-ct-chest']);
    const cxr = all.find((x: { template_id: string }) => x.template_id === 'upc-cxr-chest');
    expect(cxr.macros[0]).toMatchObject({ name: 'normal_chest', title: 'Normal chest' });
    expect(cxr.sections.find((s: { name: string }) => s.name === 'Findings').fields[1]).toMatchObject({
      field_id: 'heart_size',
      type: 'SELECTION_LIST',
      completion_action: 'PROHIBIT',
      options: ['normal', 'enlarged', 'not assessable'],
    });
  });

  it.each(DEMO_IDS)('%s exports to MRRT and re-imports unchanged', async (id) => {
    const stored = ok(await call(t, 'reporting_get_templates', { template_id: id }, 'radiologist')).result
      .templates[0];
    const exported = ok(await call(t, 'reporting_export_template', { template_id: id }, 'radiologist')).result
      .html as string;
    // The file we ship is exactly what export writes.
    const file = demoTemplateFiles().find((f) => readFileSync(f, 'utf8').includes(`content="${id}"`));
    expect(exported).toBe(readFileSync(file as string, 'utf8'));
    // Re-imported under a new identifier (templates never change), it is the same template.
    const copyId = `${id}-copy-${randomUUID().slice(0, 8)}`;
    const html = exported.replace(
      `name="dcterms.identifier" content="${id}"`,
      `name="dcterms.identifier" content="${copyId}"`,
    );
    const imported = ok(await call(t, 'reporting_import_template', { html }, 'radiologist')).result;
    expect(imported.removed).toEqual([]);
    expect(imported.warnings).toEqual([]);
    expect(imported.template).toEqual({ ...stored, template_id: copyId });
    const again = ok(await call(t, 'reporting_export_template', { template_id: copyId }, 'admin')).result
      .html;
    expect(again).toBe(html);
  });
});

describe('MRRT import', () => {
  const hostile = (id: string) => `<!DOCTYPE html>
<html><head><title>Hostile knee</title>
<meta name="dcterms.identifier" content="${id}">
<script>alert(1)</script>
<script type="text/xml"><template_attributes><status>ACTIVE</status></template_attributes></script>
</head>
<body onload="steal()">
<section data-section-name="Findings">
<header class="level1">Findings</header>
<p data-section-text>See <a href=" JaVaScript:alert(2)">the atlas</a>.</p>
<iframe src="https://evil.example/"></iframe>
<p><label for="effusion">Effusion</label>
<select id="effusion" data-field-type="SELECTION_LIST" data-field-completion-action="prohibit" onchange="x()">
<option>none</option><option selected>small</option></select></p>
</section>
<object data="x.swf"></object><embed src="y.swf">
</body></html>`;

  it('sanitises scripts, event handlers, javascript: links and embedded documents, and reports each removal', async () => {
    const id = `hostile-${randomUUID().slice(0, 8)}`;
    const res = ok(
      await call(
        t,
        'reporting_import_template',
        { html: hostile(id), modality: 'cr', body_part: 'knee' },
        'radiologist',
      ),
    ).result;
    expect(res.removed).toEqual([
      { kind: 'element', name: 'script', on: 'head', value: 'alert(1)' },
      { kind: 'attribute', name: 'onload', on: 'body', value: 'steal()' },
      { kind: 'attribute', name: 'href', on: 'a', value: 'JaVaScript:alert(2)' },
      { kind: 'element', name: 'iframe', on: 'section', value: 'src="https://evil.example/"' },
      { kind: 'attribute', name: 'onchange', on: 'select', value: 'x()' },
      { kind: 'element', name: 'object', on: 'body', value: 'data="x.swf"' },
      { kind: 'element', name: 'embed', on: 'body', value: 'src="y.swf"' },
    ]);
    expect(res.template).toMatchObject({
      template_id: id,
      title: 'Hostile knee',
      modality: 'CR',
      body_part: 'KNEE',
      coded_content: '<template_attributes><status>ACTIVE</status></template_attributes>',
      sections: [
        {
          name: 'Findings',
          report_section: 'findings',
          text: 'See the atlas.',
          fields: [
            {
              field_id: 'effusion',
              label: 'Effusion',
              type: 'SELECTION_LIST',
              completion_action: 'PROHIBIT',
              options: ['none', 'small'],
              default_value: 'small',
            },
          ],
        },
      ],
    });
    // Nothing active is stored or exported: only the coded-content block is a script.
    const client = new pg.Client({ connectionString: t.database.url });
    await client.connect();
    const { rows } = await client
      .query('SELECT sanitised_html FROM reporting.templates WHERE template_id = $1', [id])
      .finally(() => client.end());
    const stored = rows[0].sanitised_html as string;
    for (const html of [
      stored,
      ok(await call(t, 'reporting_export_template', { template_id: id })).result.html,
    ]) {
      expect(html).not.toMatch(/alert\(1\)|onload|onchange|javascript:|<iframe|<object|<embed/i);
      expect(html.match(/<script/gi)).toEqual(['<script']);
      expect(html).toContain('<script type="text/xml">');
    }
  });

  it('the sanitiser alone: srcdoc, vbscript: and a script hidden in a <template> go too', () => {
    const parsed = importMrrt(
      '<html><head><title>x</title><meta name="dcterms.identifier" content="x1"></head><body>' +
        '<section data-section-name="Impression"><template><script>bad()</script></template>' +
        '<img src="vbscript:msgbox(1)"><iframe srcdoc="<b>x</b>"></iframe></section></body></html>',
      { modality: 'CT', body_part: 'CHEST' },
    );
    expect(parsed.removed.map((r) => `${r.kind}:${r.name}`)).toEqual([
      'element:script',
      'attribute:src',
      'element:iframe',
    ]);
    expect(parsed.template?.sections[0]?.report_section).toBe('impression');
  });

  it('names what is missing or wrong, and refuses a second template with the same identifier', async () => {
    const bad = await call(
      t,
      'reporting_import_template',
      {
        html:
          '<html><head><title>No id</title></head><body><section data-section-name="Findings">' +
          '<input id="a" data-field-completion-action="SOMETIMES"></section></body></html>',
      },
      'radiologist',
    );
    expect(bad.status).toBe(400);
    expect(bad.error.error_code).toBe('INVALID_PARAMETERS');
    expect(bad.error.details.fields.map((f: { field: string }) => f.field)).toEqual([
      'html',
      'modality',
      'body_part',
      'Findings.a',
    ]);
    const again = await call(
      t,
      'reporting_import_template',
      { html: readFileSync(demoTemplateFiles()[0] as string, 'utf8') },
      'radiologist',
    );
    expect(again.status).toBe(409);
    expect(again.error.error_code).toBe('CONFLICT');
  });

  it('a transcriptionist may read templates but not import or export them', async () => {
    ok(await call(t, 'reporting_get_templates', { modality: 'CR' }, 'transcriptionist'));
    const denied = await call(
      t,
      'reporting_export_template',
      { template_id: 'upc-cxr-chest' },
      'transcriptionist',
    );
    expect(denied.error.error_code).toBe('FORBIDDEN');
  });
});

describe('reports from templates and completion actions', () => {
  it('a template fills the sections with its text and "Label:" lines; a macro fills findings and impression', async () => {
    const blank = await fromTemplate('upc-ct-head', { clinical_history: 'Fall, GCS 14.' });
    expect(blank.clinical_history).toBe('Fall, GCS 14.');
    expect(blank.technique).toBe(
      'Axial CT of the head without intravenous contrast, with bone and brain windows.',
    );
    expect(blank.findings).toBe(
      'Intracranial haemorrhage:\nInfarct:\nMass effect and midline shift:\nVentricles:\nSkull and skull base:',
    );
    const normal = await fromTemplate('upc-cxr-chest', { macro: 'normal_chest' });
    expect(normal.impression).toBe('Normal chest radiograph.');
    expect(normal.findings).toContain('Heart size: normal');
    const noMacro = await call(
      t,
      'reporting_generate_report',
      {
        accession_number: await createOrder(t, patient, procedureCode, practice),
        template_id: 'upc-ct-head',
        macro: 'normal_chest',
      },
      'radiologist',
    );
    expect(noMacro.error.error_code).toBe('INVALID_PARAMETERS');
    expect(noMacro.error.details.fields[0].field).toBe('macro');
  });

  it('PROHIBIT blocks signing, naming the empty fields, until they are filled', async () => {
    const report = await fromTemplate('upc-cxr-chest', {
      findings: 'Heart size:\nMediastinum: Normal.\nLungs: ___\nPleura: No effusion.',
      impression: 'Pending.',
    });
    const refused = await callConfirmed(
      t,
      'reporting_sign_report',
      { report_id: report.report_id, version: 1 },
      'radiologist',
    );
    expect(refused.status).toBe(409);
    expect(refused.error.error_code).toBe('CONFLICT');
    expect(refused.error.message).toContain(
      '"Projection" (technique), "Heart size" (findings), "Lungs" (findings)',
    );
    expect(refused.error.details).toMatchObject({
      report_id: report.report_id,
      template_id: 'upc-cxr-chest',
      missing_fields: [
        { field_id: 'projection', completion_action: 'PROHIBIT' },
        { field_id: 'heart_size', completion_action: 'PROHIBIT' },
        { field_id: 'lungs', completion_action: 'PROHIBIT' },
      ],
    });
    ok(
      await call(
        t,
        'reporting_update_report',
        {
          report_id: report.report_id,
          version: 1,
          clinical_history: 'Indication: Cough.',
          technique: 'Projection: PA',
          findings: 'Heart size: normal\nMediastinum: Normal.\nLungs: Clear.\nPleura: No effusion.',
          impression: 'Normal chest.',
        },
        'transcriptionist',
      ),
    );
    const signed = ok(
      await callConfirmed(
        t,
        'reporting_sign_report',
        { report_id: report.report_id, version: 2 },
        'radiologist',
      ),
    );
    expect(signed.result.report.status).toBe('final');
    expect(signed.result.warnings).toEqual([]);
  });

  it('ALERT warns but signs: the answer lists the empty ALERT fields', async () => {
    const report = await fromTemplate('upc-cxr-chest', {
      technique: 'Projection: AP',
      findings: 'Heart size: enlarged\nMediastinum:\nLungs: Clear.\nPleura:',
      impression: 'Cardiomegaly.',
    });
    const first = await call(
      t,
      'reporting_sign_report',
      { report_id: report.report_id, version: 1 },
      'radiologist',
    );
    expect(first.error.error_code).toBe('CONFIRMATION_REQUIRED');
    expect(first.error.message).toContain('Still empty (ALERT): Indication, Mediastinum, Pleura.');
    const signed = ok(
      await callConfirmed(
        t,
        'reporting_sign_report',
        { report_id: report.report_id, version: 1 },
        'radiologist',
      ),
    );
    expect(signed.result.report).toMatchObject({ status: 'final', version: 2 });
    expect(signed.result.warnings.map((w: { field_id: string }) => w.field_id)).toEqual([
      'indication',
      'mediastinum',
      'pleura',
    ]);
    expect(signed.result.warnings[0]).toMatchObject({
      label: 'Indication',
      section: 'clinical_history',
      completion_action: 'ALERT',
    });
  });

  it('a report without a template signs as before, with no warnings', async () => {
    const accession = await createOrder(t, patient, procedureCode, practice);
    const created = ok(
      await call(
        t,
        'reporting_generate_report',
        { accession_number: accession, findings: 'Normal.', impression: 'Normal.' },
        'radiologist',
      ),
    );
    const signed = ok(
      await callConfirmed(
        t,
        'reporting_sign_report',
        { report_id: created.result.report.report_id, version: 1 },
        'radiologist',
      ),
    );
    expect(signed.result.warnings).toEqual([]);
  });
});
