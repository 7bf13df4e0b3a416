/**
 * The templates' SQL (migrations/0021_templates.sql): templates by modality and body part, and which
 * template a report was made from. Rows become `Template` objects here. Templates are insert-only.
 */
import type { ColumnType, Kysely } from 'kysely';
import type { ReportingTables } from './reporting.tables.js';
import type { Template } from './reporting.templates.js';

export type TemplateTables = {
  'reporting.templates': {
    template_id: string;
    title: string;
    modality: string;
    body_part: string;
    /** The template model as JSON (written as a JSON string, read back parsed). */
    definition: ColumnType<Template, string, never>;
    sanitised_html: string;
    source: 'demo' | 'import';
    imported_by: string;
    imported_at: ColumnType<Date, never, never>;
  };
  'reporting.report_templates': {
    report_id: number;
    template_id: string;
    macro: string | null;
    applied_by: string;
    applied_at: ColumnType<Date, never, never>;
  };
};

/** Any handle of the reporting schema (database or transaction) that also sees the template tables. */
export type TemplatesDb = Kysely<ReportingTables & TemplateTables>;

export function templatesDb(db: Kysely<ReportingTables>): TemplatesDb {
  return db.withTables<TemplateTables>() as unknown as TemplatesDb;
}

/** Stores a template; false when its identifier is taken (nothing written). */
export async function insertTemplate(
  db: TemplatesDb,
  template: Template,
  row: { sanitisedHtml: string; source: 'demo' | 'import'; importedBy: string },
): Promise<boolean> {
  const inserted = await db
    .insertInto('reporting.templates')
    .values({
      template_id: template.template_id,
      title: template.title,
      modality: template.modality,
      body_part: template.body_part,
      definition: JSON.stringify(template),
      sanitised_html: row.sanitisedHtml,
      source: row.source,
      imported_by: row.importedBy,
    })
    .onConflict((oc) => oc.column('template_id').doNothing())
    .returning('template_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function getTemplate(db: TemplatesDb, templateId: string): Promise<Template | undefined> {
  const row = await db
    .selectFrom('reporting.templates')
    .select('definition')
    .where('template_id', '=', templateId)
    .executeTakeFirst();
  return row?.definition;
}

export async function listTemplates(
  db: TemplatesDb,
  filter: { modality?: string; bodyPart?: string },
): Promise<Template[]> {
  let query = db.selectFrom('reporting.templates').select('definition');
  if (filter.modality !== undefined) query = query.where('modality', '=', filter.modality);
  if (filter.bodyPart !== undefined) query = query.where('body_part', '=', filter.bodyPart);
  const rows = await query.orderBy('modality').orderBy('body_part').orderBy('template_id').execute();
  return rows.map((r) => r.definition);
}

export async function countTemplates(db: TemplatesDb): Promise<number> {
  const row = await db
    .selectFrom('reporting.templates')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Records the template a new report was made from (same transaction as the report). */
export async function linkTemplate(
  db: TemplatesDb,
  row: { reportId: number; templateId: string; macro: string | null; appliedBy: string },
): Promise<void> {
  await db
    .insertInto('reporting.report_templates')
    .values({
      report_id: row.reportId,
      template_id: row.templateId,
      macro: row.macro,
      applied_by: row.appliedBy,
    })
    .execute();
}

/** The template a report was made from, if any. */
export async function templateOfReport(db: TemplatesDb, reportId: number): Promise<Template | undefined> {
  const row = await db
    .selectFrom('reporting.report_templates as rt')
    .innerJoin('reporting.templates as t', 't.template_id', 'rt.template_id')
    .select('t.definition')
    .where('rt.report_id', '=', reportId)
    .executeTakeFirst();
  return row?.definition;
}
