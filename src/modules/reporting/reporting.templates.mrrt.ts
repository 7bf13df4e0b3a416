/**
 * IHE MRRT (HTML5 report templates) in and out, pure (no I/O). Import parses with parse5 (the WHATWG
 * HTML parsing algorithm, as a browser would), sanitises the tree and reports every removal, then reads
 * the template: Dublin-Core metadata in `<head>`, the coded-content block, `<section data-section-name>`
 * sections and their `data-field-*` fields, and our macros. Export writes the template back as MRRT from
 * the stored model, escaping every text, so what leaves is never the imported markup.
 */
import { type DefaultTreeAdapterTypes, parse, serialize } from 'parse5';
import { SECTIONS, type SectionName } from './reporting.rules.js';
import {
  COMPLETION_ACTIONS,
  type CompletionAction,
  FIELD_TYPES,
  type FieldType,
  reportSectionFor,
  type Template,
  type TemplateField,
  type TemplateMacro,
  type TemplateSection,
} from './reporting.templates.js';

type Node = DefaultTreeAdapterTypes.Node;
type Element = DefaultTreeAdapterTypes.Element;
type ParentNode = DefaultTreeAdapterTypes.ParentNode;

/** Something the sanitiser took out of an imported file. */
export interface Removal {
  kind: 'element' | 'attribute';
  /** The element's tag, or the attribute's name. */
  name: string;
  /** The element the attribute was on, or the removed element's parent. */
  on: string;
  /** The start of what was removed (script text, attribute value), for the importer to check. */
  value: string;
}

export interface FieldProblemText {
  field: string;
  message: string;
}

export interface MrrtImport {
  template: Template | undefined;
  removed: Removal[];
  warnings: string[];
  problems: FieldProblemText[];
  /** The sanitised document, serialised (kept with the template for reference). */
  sanitised: string;
}

/** Elements that can run code or pull in other documents: dropped on import. */
const DROPPED_ELEMENTS = new Set([
  'script',
  'iframe',
  'object',
  'embed',
  'frame',
  'frameset',
  'applet',
  'base',
]);
const FIELD_ELEMENTS = new Set(['input', 'textarea', 'select']);

function isElement(node: Node): node is Element {
  return 'tagName' in node;
}

function children(node: Node): Node[] {
  const out: Node[] = 'childNodes' in node ? [...node.childNodes] : [];
  // A <template>'s children live in its content fragment.
  if ('content' in node && node.content) out.push(...node.content.childNodes);
  return out;
}

function attr(el: Element, name: string): string | undefined {
  return el.attrs.find((a) => a.name === name)?.value;
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 79)}…` : flat;
}

/** `javascript:` (or `vbscript:`) however it is dressed up: case, whitespace and control characters. */
function isScriptUrl(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: browsers ignore these inside a URL scheme
  const bare = value.replace(/[\u0000-\u0020]+/g, '').toLowerCase();
  return bare.startsWith('javascript:') || bare.startsWith('vbscript:');
}

function isCodedContent(el: Element): boolean {
  return el.tagName === 'script' && (attr(el, 'type') ?? '').trim().toLowerCase() === 'text/xml';
}

function textOf(node: Node): string {
  if (node.nodeName === '#text') return (node as DefaultTreeAdapterTypes.TextNode).value;
  return children(node).map(textOf).join('');
}

/** Removes what can run code, in place; every removal listed. Keeps the MRRT coded-content block. */
export function sanitise(root: ParentNode): Removal[] {
  const removed: Removal[] = [];
  const walk = (node: Node) => {
    for (const child of children(node)) {
      if (!isElement(child)) continue;
      const parent = child.parentNode ?? (node as ParentNode);
      if (DROPPED_ELEMENTS.has(child.tagName) && !isCodedContent(child)) {
        removed.push({
          kind: 'element',
          name: child.tagName,
          on: isElement(parent) ? parent.tagName : '#document',
          value: clip(textOf(child) || child.attrs.map((a) => `${a.name}="${a.value}"`).join(' ')),
        });
        parent.childNodes.splice(parent.childNodes.indexOf(child), 1);
        continue;
      }
      child.attrs = child.attrs.filter((a) => {
        const name = a.name.toLowerCase();
        if (name.startsWith('on') || name === 'srcdoc' || isScriptUrl(a.value)) {
          removed.push({ kind: 'attribute', name: a.name, on: child.tagName, value: clip(a.value) });
          return false;
        }
        return true;
      });
      walk(child);
    }
  };
  walk(root);
  return removed;
}

function isSection(el: Element): boolean {
  return el.tagName === 'section' && attr(el, 'data-section-name') !== undefined;
}

/** The elements under `root` that pass `test`; with `ownSection`, not those of nested sections. */
function findAll(root: Node, test: (el: Element) => boolean, ownSection = false): Element[] {
  const out: Element[] = [];
  const walk = (node: Node) => {
    for (const child of children(node)) {
      if (!isElement(child)) continue;
      if (ownSection && isSection(child)) continue;
      if (test(child)) out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}

function meta(doc: Node, ...names: string[]): string | undefined {
  for (const name of names) {
    const found = findAll(doc, (el) => el.tagName === 'meta' && attr(el, 'name')?.toLowerCase() === name);
    const content = found[0] && attr(found[0], 'content');
    if (content !== undefined && content.trim() !== '') return content.trim();
  }
  return undefined;
}

function collapse(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .filter((line) => line !== '')
    .join('\n');
}

/** A section's fixed text: its `data-section-text` block(s) as written, else its loose text collapsed. */
function sectionText(section: Element): string {
  const blocks = findAll(section, (el) => attr(el, 'data-section-text') !== undefined, true);
  if (blocks.length > 0) return blocks.map(textOf).join('\n').trim();
  const skip = new Set(['header', 'label', 'input', 'textarea', 'select', 'option', 'h1', 'h2', 'h3', 'h4']);
  const parts: string[] = [];
  const walk = (node: Node) => {
    for (const child of children(node)) {
      if (child.nodeName === '#text') parts.push(textOf(child));
      else if (
        isElement(child) &&
        !skip.has(child.tagName) &&
        !isSection(child) &&
        attr(child, 'data-macro-name') === undefined
      ) {
        const block = /^(p|div|li|br|ul|ol|section)$/.test(child.tagName);
        if (block) parts.push('\n');
        walk(child);
        if (block) parts.push('\n');
      }
    }
  };
  walk(section);
  return collapse(parts.join(''));
}

function fieldOf(
  el: Element,
  labels: Map<string, string>,
  where: string,
  problems: FieldProblemText[],
): TemplateField | undefined {
  const id = (attr(el, 'id') ?? attr(el, 'name') ?? '').trim();
  if (id === '') {
    problems.push({ field: where, message: `a <${el.tagName}> field has neither id nor name` });
    return undefined;
  }
  const label = clip(labels.get(id) ?? attr(el, 'data-field-name') ?? attr(el, 'title') ?? id).replace(
    /:$/,
    '',
  );
  const declared = attr(el, 'data-field-type')?.trim().toUpperCase();
  const inputType = (attr(el, 'type') ?? 'text').toLowerCase();
  const inferred: FieldType =
    el.tagName === 'select'
      ? 'SELECTION_LIST'
      : el.tagName === 'textarea'
        ? 'TEXTAREA'
        : inputType === 'checkbox'
          ? 'CHECKBOX'
          : inputType === 'number'
            ? 'NUMBER'
            : inputType === 'date'
              ? 'DATE'
              : inputType === 'time'
                ? 'TIME'
                : 'TEXT';
  if (declared !== undefined && !(FIELD_TYPES as readonly string[]).includes(declared)) {
    problems.push({
      field: `${where}.${id}`,
      message: `data-field-type "${declared}" is not one of ${FIELD_TYPES.join(', ')}`,
    });
    return undefined;
  }
  const action = (attr(el, 'data-field-completion-action') ?? 'NONE').trim().toUpperCase();
  if (!(COMPLETION_ACTIONS as readonly string[]).includes(action)) {
    problems.push({
      field: `${where}.${id}`,
      message: `data-field-completion-action "${action}" is not one of ${COMPLETION_ACTIONS.join(', ')}`,
    });
    return undefined;
  }
  const options = findAll(el, (o) => o.tagName === 'option');
  let defaultValue: string;
  if (el.tagName === 'select') {
    const selected = options.find((o) => attr(o, 'selected') !== undefined);
    defaultValue = selected ? (attr(selected, 'value') ?? textOf(selected).trim()) : '';
  } else if (el.tagName === 'textarea') defaultValue = textOf(el);
  else if (inputType === 'checkbox') defaultValue = attr(el, 'checked') !== undefined ? 'yes' : '';
  else defaultValue = attr(el, 'value') ?? '';
  return {
    field_id: id,
    label,
    type: (declared as FieldType | undefined) ?? inferred,
    completion_action: action as CompletionAction,
    options: options.map((o) => attr(o, 'value') ?? textOf(o).trim()),
    default_value: defaultValue.replace(/\r\n?/g, '\n'),
  };
}

/**
 * Parses and sanitises an MRRT file. `overrides` supply (or replace) modality and body part when the
 * file does not say them. Problems (a missing identifier, a bad completion action, ...) leave `template`
 * undefined; what was removed and what was guessed are reported either way.
 */
export function importMrrt(
  html: string,
  overrides: { modality?: string; body_part?: string } = {},
): MrrtImport {
  const doc = parse(html);
  const removed = sanitise(doc);
  const problems: FieldProblemText[] = [];
  const warnings: string[] = [];
  const sanitised = serialize(doc);

  const templateId = meta(doc, 'dcterms.identifier');
  const titleEl = findAll(doc, (el) => el.tagName === 'title')[0];
  const title = meta(doc, 'dcterms.title') ?? (titleEl ? clip(textOf(titleEl)) : undefined);
  const modality = (overrides.modality ?? meta(doc, 'upc.modality', 'modality'))?.toUpperCase();
  const bodyPart = (
    overrides.body_part ?? meta(doc, 'upc.body_part', 'body_part', 'body-part')
  )?.toUpperCase();
  if (!templateId) problems.push({ field: 'html', message: 'no <meta name="dcterms.identifier"> in <head>' });
  else if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/.test(templateId))
    problems.push({
      field: 'html',
      message: `dcterms.identifier "${clip(templateId)}" must be letters, digits and . _ : -`,
    });
  if (!title) problems.push({ field: 'html', message: 'no <title> or dcterms.title' });
  if (!modality)
    problems.push({ field: 'modality', message: 'the file names no modality: give it (CR, CT, MR, US, MG)' });
  if (!bodyPart)
    problems.push({ field: 'body_part', message: 'the file names no body part: give it (e.g. CHEST)' });

  const coded = findAll(doc, isCodedContent)[0];
  const sections: TemplateSection[] = [];
  const seen = new Set<string>();
  for (const el of findAll(doc, isSection)) {
    const name = (attr(el, 'data-section-name') ?? '').trim();
    let reportSection = reportSectionFor(name);
    if (!reportSection) {
      warnings.push(`section "${name}" is not one of ours; its text and fields go to findings`);
      reportSection = 'findings';
    }
    const labels = new Map<string, string>();
    for (const label of findAll(el, (e) => e.tagName === 'label' && attr(e, 'for') !== undefined, true))
      labels.set(attr(label, 'for') as string, textOf(label).trim());
    const fields: TemplateField[] = [];
    for (const fieldEl of findAll(el, (e) => FIELD_ELEMENTS.has(e.tagName), true)) {
      const field = fieldOf(fieldEl, labels, name, problems);
      if (!field) continue;
      if (seen.has(field.field_id)) {
        problems.push({ field: `${name}.${field.field_id}`, message: 'the field id is used twice' });
        continue;
      }
      seen.add(field.field_id);
      fields.push(field);
    }
    sections.push({ name, report_section: reportSection, text: sectionText(el), fields });
  }
  if (sections.length === 0)
    problems.push({ field: 'html', message: 'no <section data-section-name="..."> in <body>' });

  const macros: TemplateMacro[] = [];
  for (const el of findAll(doc, (e) => attr(e, 'data-macro-name') !== undefined)) {
    const macroSections: Partial<Record<SectionName, string>> = {};
    for (const part of findAll(el, (e) => attr(e, 'data-macro-section') !== undefined)) {
      const target = reportSectionFor(attr(part, 'data-macro-section') as string);
      if (target) macroSections[target] = textOf(part).trim();
      else warnings.push(`macro section "${attr(part, 'data-macro-section')}" is not one of ours; left out`);
    }
    const name = (attr(el, 'data-macro-name') as string).trim();
    macros.push({ name, title: (attr(el, 'data-macro-title') ?? name).trim(), sections: macroSections });
  }

  const template =
    problems.length === 0
      ? {
          template_id: templateId as string,
          title: title as string,
          modality: modality as string,
          body_part: bodyPart as string,
          language: meta(doc, 'dcterms.language') ?? 'en',
          description: meta(doc, 'dcterms.description') ?? '',
          publisher: meta(doc, 'dcterms.publisher') ?? '',
          sections,
          macros,
          coded_content: coded ? textOf(coded) : null,
        }
      : undefined;
  return { template, removed, warnings, problems, sanitised };
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function exportField(field: TemplateField): string {
  const common =
    `id="${esc(field.field_id)}" name="${esc(field.field_id)}" data-field-type="${field.type}" ` +
    `data-field-completion-action="${field.completion_action}"`;
  let control: string;
  if (field.type === 'SELECTION_LIST') {
    const options = field.options.map(
      (o) => `<option value="${esc(o)}"${o === field.default_value ? ' selected' : ''}>${esc(o)}</option>`,
    );
    control = `<select ${common}>${options.join('')}</select>`;
  } else if (field.type === 'TEXTAREA') {
    // The parser drops one newline right after <textarea>: write one more when the text starts with one.
    const text = field.default_value.startsWith('\n') ? `\n${field.default_value}` : field.default_value;
    control = `<textarea ${common}>${esc(text)}</textarea>`;
  } else if (field.type === 'CHECKBOX') {
    control = `<input type="checkbox" ${common}${field.default_value !== '' ? ' checked' : ''}>`;
  } else {
    const type = { TEXT: 'text', NUMBER: 'number', DATE: 'date', TIME: 'time' }[field.type];
    control = `<input type="${type}" ${common} value="${esc(field.default_value)}">`;
  }
  return `<p><label for="${esc(field.field_id)}">${esc(field.label)}</label> ${control}</p>`;
}

/** The template as an MRRT HTML5 file. Importing it gives the same template back. */
export function exportMrrt(template: Template): string {
  const metaLine = (name: string, content: string) => `<meta name="${name}" content="${esc(content)}">`;
  const head = [
    '<meta charset="UTF-8">',
    `<title>${esc(template.title)}</title>`,
    metaLine('dcterms.identifier', template.template_id),
    metaLine('dcterms.title', template.title),
    metaLine('dcterms.description', template.description),
    metaLine('dcterms.language', template.language),
    metaLine('dcterms.publisher', template.publisher),
    metaLine('dcterms.type', 'IMAGE_REPORT_TEMPLATE'),
    metaLine('upc.modality', template.modality),
    metaLine('upc.body_part', template.body_part),
  ];
  if (template.coded_content !== null) {
    if (/<\/script/i.test(template.coded_content)) throw new Error('coded content cannot hold </script');
    head.push(`<script type="text/xml">${template.coded_content}</script>`);
  }
  const body: string[] = [];
  for (const section of template.sections) {
    body.push(`<section data-section-name="${esc(section.name)}">`);
    body.push(`<header class="level1">${esc(section.name)}</header>`);
    if (section.text !== '') body.push(`<p data-section-text="">${esc(section.text)}</p>`);
    for (const field of section.fields) body.push(exportField(field));
    body.push('</section>');
  }
  for (const macro of template.macros) {
    body.push(`<div hidden="" data-macro-name="${esc(macro.name)}" data-macro-title="${esc(macro.title)}">`);
    for (const name of SECTIONS) {
      const text = macro.sections[name];
      if (text !== undefined) body.push(`<p data-macro-section="${name}">${esc(text)}</p>`);
    }
    body.push('</div>');
  }
  return [
    '<!DOCTYPE html>',
    `<html lang="${esc(template.language)}">`,
    '<head>',
    ...head,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
