import type { GetPromptResult, Prompt } from '@modelcontextprotocol/server';

export interface PromptArgumentDefinition {
  name: string;
  description: string;
  required: boolean;
  /** Name of a tool parameter whose enum values complete this argument (see completions.ts). */
  completeFrom?: string;
}

/** A prompt: text that starts a piece of work with the right tools, offered to roles that may do it. */
export interface PromptDefinition {
  name: string;
  title: string;
  description: string;
  /**
   * The tools the prompt tells the model to use. It is offered only when every one of them is registered
   * and the caller may use it, so a prompt never points at a tool that is not there.
   */
  tools: readonly string[];
  arguments: PromptArgumentDefinition[];
  render(args: Readonly<Record<string, string>>): string;
}

function optional(
  args: Readonly<Record<string, string>>,
  name: string,
  text: (value: string) => string,
): string {
  const value = args[name];
  return value ? text(value) : '';
}

export const PROMPTS: readonly PromptDefinition[] = [
  {
    name: 'draft_report_for_study',
    title: 'Draft a report for a study',
    description:
      'Drafts a radiology report for one study from its images, history and the practice templates.',
    tools: [
      'pacs_retrieve_study',
      'pacs_get_patient_history',
      'reporting_get_templates',
      'reporting_generate_report',
    ],
    arguments: [
      { name: 'study_instance_uid', description: 'StudyInstanceUID of the study to report', required: true },
      {
        name: 'template',
        description: 'Report template to start from',
        required: false,
        completeFrom: 'template',
      },
    ],
    render: (args) =>
      [
        `Draft a radiology report for the study with StudyInstanceUID ${args.study_instance_uid}.`,
        'Steps: read the study (pacs_retrieve_study) and the patient history (pacs_get_patient_history);',
        optional(args, 'template', (t) => `use the report template "${t}" (reporting_get_templates);`),
        'then create the draft with reporting_generate_report. Keep findings factual and say what is',
        'uncertain. Never sign: a radiologist reviews and signs the report.',
      ]
        .filter(Boolean)
        .join('\n'),
  },
  {
    name: 'brief_worklist',
    title: "Brief the day's worklist",
    description: "Summarises a day's worklist: what is booked, what is waiting, what is urgent.",
    tools: ['ris_get_worklist'],
    arguments: [
      { name: 'date', description: 'Day to brief, YYYY-MM-DD (default: today)', required: false },
      {
        name: 'modality',
        description: 'Only this modality (e.g. CT, MR)',
        required: false,
        completeFrom: 'modality',
      },
      { name: 'status', description: 'Only studies in this status', required: false, completeFrom: 'status' },
    ],
    render: (args) =>
      [
        `Brief me on the worklist for ${args.date || 'today'}${optional(args, 'modality', (m) => `, ${m} only`)}${optional(args, 'status', (s) => `, status ${s}`)}.`,
        'Use ris_get_worklist. Group by modality and room, list stat and urgent orders first, flag',
        'appointments that are running late (still BOOKED or REGISTERED after their start time), and end',
        'with a short count per status. On a closed day, say so and name the next open day.',
      ].join('\n'),
  },
  {
    name: 'check_claim_before_submission',
    title: 'Check a claim before submission',
    description: 'Checks an invoice against the medical-aid rules before its claim is submitted.',
    tools: [
      'billing_get_invoice',
      'billing_validate_medical_aid',
      'billing_check_preauth_status',
      'billing_submit_claim',
    ],
    arguments: [{ name: 'invoice_id', description: 'Invoice whose claim will be submitted', required: true }],
    render: (args) =>
      [
        `Check invoice ${args.invoice_id} before its claim is submitted.`,
        'Use billing_get_invoice, billing_validate_medical_aid and billing_check_preauth_status. Check that',
        'every line has a valid tariff code and at least one ICD-10 code, that VAT is right, that the member is',
        'active and that any required pre-authorisation is approved. List each problem with how to fix it.',
        'Do not submit the claim: billing_submit_claim needs a person to confirm.',
      ].join('\n'),
  },
];

export function wirePrompt(prompt: PromptDefinition): Prompt {
  return {
    name: prompt.name,
    title: prompt.title,
    description: prompt.description,
    arguments: prompt.arguments.map(({ name, description, required }) => ({ name, description, required })),
  };
}

export function renderPrompt(
  prompt: PromptDefinition,
  args: Readonly<Record<string, string>>,
): GetPromptResult {
  return {
    description: prompt.description,
    messages: [{ role: 'user', content: { type: 'text', text: prompt.render(args) } }],
  };
}
