import type { ResourcePart, ResourceProvider } from '../../core/resources.js';

/** MCP resources read through RIS tools (same permission, scope, redaction and audit as the tools). */
export const risResources: readonly ResourceProvider[] = [
  {
    uriTemplate: 'worklist://today',
    name: 'worklist-today',
    title: "Today's worklist",
    description: "Today's appointments and studies with their status, for the whole practice.",
    mimeType: 'application/json',
    tool: 'ris_get_worklist',
    // No date: the RIS answers for today in the practice's time zone, not the server's.
    parameters: () => ({}),
  },
];

export const risResourceParts: readonly ResourcePart[] = [
  {
    resource: 'patient://{id}/summary',
    part: 'ris',
    holds: 'demographics, medical aid, orders, appointments',
    tool: 'ris_get_patient',
    parameters: (v) => ({ patient_id: v.id }),
  },
];
