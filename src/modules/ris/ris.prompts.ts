import { optionalPart, type PromptDefinition } from '../../core/prompts.js';

/** MCP prompts that start work with RIS tools. */
export const risPrompts: readonly PromptDefinition[] = [
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
        `Brief me on the worklist for ${args.date || 'today'}${optionalPart(args, 'modality', (m) => `, ${m} only`)}${optionalPart(args, 'status', (s) => `, status ${s}`)}.`,
        'Use ris_get_worklist. Group by modality and room, list stat and urgent orders first, flag',
        'appointments that are running late (still BOOKED or REGISTERED after their start time), and end',
        'with a short count per status. On a closed day, say so and name the next open day.',
      ].join('\n'),
  },
];
