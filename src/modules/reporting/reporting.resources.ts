import type { ResourceProvider } from '../../core/resources.js';

/** MCP resources read through reporting tools (same permission, scope, redaction and audit as the tools). */
export const reportingResources: readonly ResourceProvider[] = [
  {
    uriTemplate: 'report://{id}',
    name: 'report',
    title: 'Radiology report',
    description:
      'One radiology report by report id: status, sections, critical result, ICD-10 codes, signature check, ' +
      'addenda and version history (as reporting_get_report answers).',
    mimeType: 'application/json',
    tool: 'reporting_get_report',
    parameters: (v) => ({ report_id: Number(v.id) }),
  },
];
