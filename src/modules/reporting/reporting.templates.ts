/**
 * Report templates, pure (no I/O): the template model (sections, fields, macros, by modality and body
 * part), the text a template puts into a new report, and the completion check a signature runs
 * (`data-field-completion-action` of IHE MRRT: PROHIBIT refuses, ALERT warns). docs/REPORTING.md "Templates".
 */
import { SECTIONS, type SectionName, type Sections } from './reporting.rules.js';

export const FIELD_TYPES = [
  'TEXT',
  'TEXTAREA',
  'NUMBER',
  'DATE',
  'TIME',
  'SELECTION_LIST',
  'CHECKBOX',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export const COMPLETION_ACTIONS = ['NONE', 'ALERT', 'PROHIBIT'] as const;
export type CompletionAction = (typeof COMPLETION_ACTIONS)[number];

/** A fill-in field. In a report it is one line of its section's text: `Label: value`. */
export interface TemplateField {
  field_id: string;
  label: string;
  type: FieldType;
  completion_action: CompletionAction;
  /** The choices of a SELECTION_LIST (empty otherwise). */
  options: string[];
  default_value: string;
}

export interface TemplateSection {
  /** The section's name in the MRRT file (`data-section-name`), e.g. "Clinical history". */
  name: string;
  /** The report section it fills. */
  report_section: SectionName;
  /** Fixed text the section starts with (before its field lines). */
  text: string;
  fields: TemplateField[];
}

/** Ready-made text for some sections, e.g. "normal chest" filling findings and impression. */
export interface TemplateMacro {
  name: string;
  title: string;
  sections: Partial<Record<SectionName, string>>;
}

export interface Template {
  /** `dcterms.identifier`: unique, never reused for different content. */
  template_id: string;
  title: string;
  /** DICOM modality as the RIS uses it: CR, CT, MR, US, MG. */
  modality: string;
  body_part: string;
  language: string;
  description: string;
  publisher: string;
  sections: TemplateSection[];
  macros: TemplateMacro[];
  /** The MRRT coded-content block (`<script type="text/xml">`), kept as text; null when absent. */
  coded_content: string | null;
}

/** What an MRRT section name stands for in our six sections (lower case, spaces/underscores/hyphens alike). */
const SECTION_NAMES: Record<string, SectionName> = {
  'clinical history': 'clinical_history',
  history: 'clinical_history',
  'clinical information': 'clinical_history',
  indication: 'clinical_history',
  indications: 'clinical_history',
  'clinical indication': 'clinical_history',
  technique: 'technique',
  procedure: 'technique',
  protocol: 'technique',
  comparison: 'comparison',
  comparisons: 'comparison',
  'prior studies': 'comparison',
  findings: 'findings',
  impression: 'impression',
  conclusion: 'impression',
  conclusions: 'impression',
  summary: 'impression',
  recommendation: 'recommendations',
  recommendations: 'recommendations',
  'follow-up': 'recommendations',
};

/** The report section an MRRT section name maps to; undefined for a name this module does not know. */
export function reportSectionFor(name: string): SectionName | undefined {
  const key = name
    .trim()
    .toLowerCase()
    .replace(/[_\s]+/g, ' ');
  if ((SECTIONS as readonly string[]).includes(key.replace(/ /g, '_')))
    return key.replace(/ /g, '_') as SectionName;
  return SECTION_NAMES[key];
}

function fieldLine(field: TemplateField, value: string): string {
  return value === '' ? `${field.label}:` : `${field.label}: ${value}`;
}

/**
 * The sections of a new report from a template: each section's fixed text, then one `Label: value` line
 * per field (its default value, or blank). A macro's text replaces the sections it names.
 */
export function renderTemplate(template: Template, macro?: TemplateMacro): Sections {
  const out: Sections = {
    clinical_history: '',
    technique: '',
    comparison: '',
    findings: '',
    impression: '',
    recommendations: '',
  };
  for (const section of template.sections) {
    const lines = [section.text, ...section.fields.map((f) => fieldLine(f, f.default_value))].filter(
      (line) => line !== '',
    );
    const before = out[section.report_section];
    out[section.report_section] = [before, ...lines].filter((s) => s !== '').join('\n');
  }
  if (macro)
    for (const name of SECTIONS) if (macro.sections[name] !== undefined) out[name] = macro.sections[name];
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The value of a field in a report's text: the rest of the first line of its section that starts with
 * `Label:` (case-insensitive). Blank, only underscores, or a `[...]` placeholder count as empty; so does
 * a missing line.
 */
export function fieldValue(field: TemplateField, sectionText: string): string {
  const line = new RegExp(`^[ \\t]*${escapeRegExp(field.label)}[ \\t]*:(.*)$`, 'im').exec(sectionText);
  const value = (line?.[1] ?? '').trim();
  if (/^_*$/.test(value) || /^\[[^\]]*\]$/.test(value)) return '';
  return value;
}

export interface UnfilledField {
  field_id: string;
  label: string;
  section: SectionName;
  completion_action: 'ALERT' | 'PROHIBIT';
  message: string;
}

/** The PROHIBIT and ALERT fields still empty in these sections, in template order. */
export function unfilledFields(template: Template, sections: Sections): UnfilledField[] {
  const out: UnfilledField[] = [];
  for (const section of template.sections)
    for (const field of section.fields) {
      if (field.completion_action === 'NONE') continue;
      if (fieldValue(field, sections[section.report_section]) !== '') continue;
      out.push({
        field_id: field.field_id,
        label: field.label,
        section: section.report_section,
        completion_action: field.completion_action,
        message:
          `"${field.label}" (${section.report_section}) is empty: write a line "${field.label}: <value>" ` +
          `in ${section.report_section}.`,
      });
    }
  return out;
}
