/**
 * The template tools (list, MRRT import, MRRT export), what report creation and signing ask of templates,
 * and the demo templates loaded into an empty table. docs/REPORTING.md "Templates".
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { READ_ONLY, WRITE } from '../../core/annotations.js';
import { invalidField, invalidParameters, ToolError } from '../../core/errors.js';
import { type AnyTool, defineTool } from '../../core/tool.js';
import type { ReportingDeps } from './reporting.access.js';
import { SECTIONS, type Sections } from './reporting.rules.js';
import type { ReportingDb } from './reporting.tables.js';
import {
  COMPLETION_ACTIONS,
  FIELD_TYPES,
  renderTemplate,
  type Template,
  type TemplateMacro,
  type UnfilledField,
  unfilledFields,
} from './reporting.templates.js';
import { exportMrrt, importMrrt } from './reporting.templates.mrrt.js';
import {
  countTemplates,
  getTemplate,
  insertTemplate,
  listTemplates,
  templateOfReport,
  templatesDb,
} from './reporting.templates.store.js';

const sectionName = z.enum(SECTIONS);

export const templateSchema = z.object({
  template_id: z
    .string()
    .describe('MRRT dcterms.identifier; pass it as template_id to reporting_generate_report'),
  title: z.string(),
  modality: z.string().describe('DICOM modality: CR, CT, MR, US, MG'),
  body_part: z.string(),
  language: z.string(),
  description: z.string(),
  publisher: z.string(),
  sections: z.array(
    z.object({
      name: z.string().describe('The section name in the MRRT file'),
      report_section: sectionName.describe('The report section it fills'),
      text: z.string().describe('Fixed text the section starts with'),
      fields: z.array(
        z.object({
          field_id: z.string(),
          label: z.string().describe('In the report the field is the line "Label: value" of its section'),
          type: z.enum(FIELD_TYPES),
          completion_action: z
            .enum(COMPLETION_ACTIONS)
            .describe('At signing, when empty: PROHIBIT refuses, ALERT warns, NONE nothing'),
          options: z.array(z.string()).describe('The choices of a SELECTION_LIST'),
          default_value: z.string(),
        }),
      ),
    }),
  ),
  macros: z
    .array(
      z.object({
        name: z.string().describe('Pass as macro to reporting_generate_report'),
        title: z.string(),
        sections: z.partialRecord(sectionName, z.string()).describe('The text it puts into these sections'),
      }),
    )
    .describe('Ready-made text, e.g. a normal study'),
  coded_content: z.string().nullable().describe('The MRRT coded-content XML block, as imported'),
});

const removalSchema = z.object({
  kind: z.enum(['element', 'attribute']),
  name: z.string().describe('The removed element or attribute'),
  on: z.string().describe('The element it was on (or in)'),
  value: z.string().describe('The start of what was removed'),
});

/** The demo MRRT files (src/modules/reporting/demo/, copied to dist/ by the build). */
export function demoTemplateFiles(): string[] {
  const dir = fileURLToPath(new URL('./demo/', import.meta.url));
  return readdirSync(dir)
    .filter((name) => name.endsWith('.html'))
    .sort()
    .map((name) => `${dir}${name}`);
}

/**
 * Loads the demo templates when the template table is empty; a practice that has imported its own is
 * left alone. Safe to run twice or from two replicas (an identifier already there is skipped).
 */
export async function loadDemoTemplatesWhenEmpty(db: ReportingDb): Promise<number> {
  const tdb = templatesDb(db);
  if ((await countTemplates(tdb)) > 0) return 0;
  let loaded = 0;
  for (const file of demoTemplateFiles()) {
    const parsed = importMrrt(readFileSync(file, 'utf8'));
    if (!parsed.template || parsed.removed.length > 0)
      throw new Error(`Demo template ${file} is not clean MRRT: ${JSON.stringify(parsed.problems)}`);
    const stored = await insertTemplate(tdb, parsed.template, {
      sanitisedHtml: parsed.sanitised,
      source: 'demo',
      importedBy: 'system:demo',
    });
    if (stored) loaded += 1;
  }
  return loaded;
}

/** The template (and macro) a new report asks for; INVALID_PARAMETERS naming what is wrong. */
export async function templateForNewReport(
  deps: ReportingDeps,
  templateId: string | undefined,
  macroName: string | undefined,
): Promise<{ template: Template; macro: TemplateMacro | undefined; sections: Sections } | undefined> {
  if (templateId === undefined) {
    if (macroName !== undefined)
      throw invalidField('macro', 'a macro belongs to a template: give template_id');
    return undefined;
  }
  const template = await getTemplate(templatesDb(deps.db), templateId);
  if (!template)
    throw invalidField(
      'template_id',
      `there is no template "${templateId}"; list them with reporting_get_templates`,
    );
  const macro = macroName === undefined ? undefined : template.macros.find((m) => m.name === macroName);
  if (macroName !== undefined && !macro)
    throw invalidField(
      'macro',
      `template "${templateId}" has no macro "${macroName}"; it has: ${template.macros.map((m) => m.name).join(', ') || 'none'}`,
    );
  return { template, macro, sections: renderTemplate(template, macro) };
}

/**
 * The completion check at signing, from the template the report was made from: an empty PROHIBIT field
 * refuses (CONFLICT naming the fields: the report's state, not the call's parameters, is what is wrong);
 * empty ALERT fields come back as warnings.
 */
export async function signingWarnings(
  deps: ReportingDeps,
  reportId: number,
  sections: Sections,
): Promise<UnfilledField[]> {
  const template = await templateOfReport(templatesDb(deps.db), reportId);
  if (!template) return [];
  const unfilled = unfilledFields(template, sections);
  const prohibited = unfilled.filter((f) => f.completion_action === 'PROHIBIT');
  if (prohibited.length > 0)
    throw new ToolError(
      'CONFLICT',
      `Report ${reportId} cannot be signed while required field${prohibited.length > 1 ? 's' : ''} of template ` +
        `${template.template_id} ${prohibited.length > 1 ? 'are' : 'is'} empty: ` +
        `${prohibited.map((f) => `"${f.label}" (${f.section})`).join(', ')}. Fill ` +
        `${prohibited.length > 1 ? 'them' : 'it'} in with reporting_update_report (a line "Label: value").`,
      { report_id: reportId, template_id: template.template_id, missing_fields: prohibited },
    );
  return unfilled;
}

export function templateTools(deps: ReportingDeps): AnyTool[] {
  const tdb = () => templatesDb(deps.db);
  const code = (what: string) => z.string().trim().toUpperCase().min(1).max(32).describe(what);

  const list = defineTool({
    name: 'reporting_get_templates',
    title: 'List report templates',
    description:
      'The report templates, by modality (CR, CT, MR, US, MG) and body part: sections, fill-in fields (with ' +
      'their completion action: PROHIBIT fields must be filled before signing, ALERT fields warn) and macros ' +
      '(ready-made text such as a normal study). Start a report from one with reporting_generate_report ' +
      '(template_id, optionally macro).',
    input: z.object({
      modality: code('DICOM modality, e.g. CT').optional(),
      body_part: code('Body part, e.g. CHEST').optional(),
      template_id: z.string().trim().min(1).max(100).optional().describe('One template by identifier'),
    }),
    output: z.object({ templates: z.array(templateSchema) }),
    permission: 'reporting:read',
    annotations: READ_ONLY,
    phi: false,
    examples: [{ description: 'Chest CT templates', parameters: { modality: 'CT', body_part: 'CHEST' } }],
    async handler(input) {
      if (input.template_id !== undefined) {
        const one = await getTemplate(tdb(), input.template_id);
        return { templates: one ? [one] : [] };
      }
      return {
        templates: await listTemplates(tdb(), { modality: input.modality, bodyPart: input.body_part }),
      };
    },
  });

  const importTool = defineTool({
    name: 'reporting_import_template',
    title: 'Import an MRRT report template',
    description:
      'Imports a report template in IHE MRRT (an HTML5 file). It is sanitised first: scripts (except the MRRT ' +
      'coded-content block, <script type="text/xml">), iframe/object/embed, on* event attributes and ' +
      'javascript: URLs are removed, and every removal is listed in the answer. The identifier is ' +
      '<meta name="dcterms.identifier">; one already used answers CONFLICT (templates never change: import ' +
      'a new version under a new identifier). Give modality and body_part when the file does not name them.',
    input: z.object({
      html: z.string().min(1).max(500_000).describe('The MRRT template file (HTML5)'),
      modality: code('DICOM modality (CR, CT, MR, US, MG) when the file has none').optional(),
      body_part: code('Body part (e.g. CHEST) when the file has none').optional(),
    }),
    output: z.object({
      template: templateSchema,
      removed: z.array(removalSchema).describe('What the sanitiser removed'),
      warnings: z.array(z.string()),
    }),
    permission: 'reporting:templates',
    annotations: WRITE,
    phi: false,
    examples: [
      {
        description: 'A small template with one required field',
        parameters: {
          html:
            '<!DOCTYPE html><html><head><title>Example knee X-ray</title>' +
            '<meta name="dcterms.identifier" content="example-knee-xr"></head><body>' +
            '<section data-section-name="Findings"><label for="effusion">Effusion</label>' +
            '<select id="effusion" data-field-completion-action="PROHIBIT"><option>none</option>' +
            '<option>small</option></select></section></body></html>',
          modality: 'CR',
          body_part: 'KNEE',
        },
      },
    ],
    async handler(input, ctx) {
      const parsed = importMrrt(input.html, { modality: input.modality, body_part: input.body_part });
      if (!parsed.template)
        throw invalidParameters(parsed.problems.map((p) => ({ ...p, code: 'custom' as const })));
      const stored = await insertTemplate(tdb(), parsed.template, {
        sanitisedHtml: parsed.sanitised,
        source: 'import',
        importedBy: ctx.principal.subject,
      });
      if (!stored)
        throw new ToolError(
          'CONFLICT',
          `Template ${parsed.template.template_id} exists already and templates never change: give the new ` +
            'version a new dcterms.identifier (e.g. with a version suffix).',
          { template_id: parsed.template.template_id },
        );
      return { template: parsed.template, removed: parsed.removed, warnings: parsed.warnings };
    },
  });

  const exportTool = defineTool({
    name: 'reporting_export_template',
    title: 'Export a report template as MRRT',
    description:
      'One template as an IHE MRRT HTML5 file, written from the stored template (sections, fields with ' +
      'data-field-completion-action, macros, coded content). Importing the file gives the same template.',
    input: z.object({ template_id: z.string().trim().min(1).max(100).describe('The template identifier') }),
    output: z.object({ template_id: z.string(), html: z.string().describe('The MRRT file') }),
    permission: 'reporting:templates',
    annotations: READ_ONLY,
    phi: false,
    examples: [
      { description: 'The demo chest X-ray template', parameters: { template_id: 'upc-cxr-chest' } },
    ],
    async handler(input) {
      const template = await getTemplate(tdb(), input.template_id);
      if (!template)
        throw new ToolError(
          'NOT_FOUND',
          `There is no template "${input.template_id}"; list them with reporting_get_templates.`,
          { template_id: input.template_id },
        );
      return { template_id: template.template_id, html: exportMrrt(template) };
    },
  });

  return [list, importTool, exportTool];
}
