import type { ResourcePart, ResourceProvider } from '../../core/resources.js';

/** MCP resources read through PACS tools (same permission, scope, redaction and audit as the tools). */
export const pacsResources: readonly ResourceProvider[] = [
  {
    uriTemplate: 'study://{uid}',
    name: 'study',
    title: 'Imaging study',
    description: 'One study by StudyInstanceUID: patient, series, modality, dates and status.',
    mimeType: 'application/json',
    tool: 'pacs_retrieve_study',
    parameters: (v) => ({ study_instance_uid: v.uid }),
  },
];

export const pacsResourceParts: readonly ResourcePart[] = [
  {
    resource: 'patient://{id}/summary',
    part: 'pacs',
    holds: 'imaging history: studies, modalities, dates',
    tool: 'pacs_get_patient_history',
    parameters: (v) => ({ patient_id: v.id }),
  },
];
