import { optionalPart, type PromptDefinition } from '../../core/prompts.js';

/** MCP prompts that start work with reporting tools. */
export const reportingPrompts: readonly PromptDefinition[] = [
  {
    name: 'draft_report_for_study',
    title: 'Draft a report for a study',
    description:
      "Drafts a radiology report for one study from its order's indication and what the radiologist dictates.",
    tools: ['ris_get_order', 'reporting_generate_report'],
    arguments: [
      { name: 'accession_number', description: 'Accession number of the study to report', required: true },
      { name: 'dictation', description: "The radiologist's dictated findings, if any", required: false },
    ],
    render: (args) =>
      [
        `Draft a radiology report for the study with accession number ${args.accession_number}.`,
        'Steps: read the order (ris_get_order) for the clinical indication, which becomes the clinical',
        'history;',
        optionalPart(args, 'dictation', (d) => `use this dictation for the findings and impression: "${d}";`),
        'then create the draft with reporting_generate_report. Keep findings factual and say what is',
        'uncertain. Never sign: a radiologist reviews and signs the report (reporting_sign_report).',
      ]
        .filter(Boolean)
        .join('\n'),
  },
];
