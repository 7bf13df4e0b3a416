/**
 * Read-only views of practice data addressed by URI (MCP resources such as `study://{uid}`). A resource is
 * never a second way into the data: each one is backed by a registry tool, and reading it invokes that
 * tool through the invocation pipeline, so authentication, permission, patient scope, redaction and audit
 * are exactly those of the tool.
 */
export interface ResourceProvider {
  /** RFC 6570 level-1 template (`study://{uid}`) or a fixed URI (`worklist://today`). */
  uriTemplate: string;
  /** Short machine name, e.g. `study`. */
  name: string;
  title: string;
  /** Written for a model: what the resource holds and when to read it. */
  description: string;
  mimeType: string;
  /** The registry tool that produces the content; the resource is hidden while it is not registered. */
  tool: string;
  /** Maps the URI's variables to the tool's parameters (e.g. `{uid}` → `{study_instance_uid}`). */
  parameters(variables: Readonly<Record<string, string>>): Record<string, unknown>;
}

/**
 * The resource providers a deployment offers. Modules replace a default binding by registering a provider
 * with the same URI template, so the MCP door never needs to know a module's parameter names.
 */
export class ResourceCatalog {
  readonly #providers = new Map<string, ResourceProvider>();

  register(provider: ResourceProvider): void {
    this.#providers.set(provider.uriTemplate, provider);
  }

  list(): ResourceProvider[] {
    return [...this.#providers.values()];
  }
}

/**
 * The architecture's canonical resources (ARCHITECTURE §5), bound to the catalog's tool names. Until the
 * PACS/RIS/reporting modules register those tools, these stay unlisted.
 */
export const DEFAULT_RESOURCE_PROVIDERS: readonly ResourceProvider[] = [
  {
    uriTemplate: 'patient://{id}/summary',
    name: 'patient-summary',
    title: 'Patient summary',
    description: "A patient's imaging history: studies, modalities and dates. Read it before reporting.",
    mimeType: 'application/json',
    tool: 'pacs_get_patient_history',
    parameters: (v) => ({ patient_id: v.id }),
  },
  {
    uriTemplate: 'study://{uid}',
    name: 'study',
    title: 'Imaging study',
    description: 'One study by StudyInstanceUID: patient, series, modality, dates and status.',
    mimeType: 'application/json',
    tool: 'pacs_retrieve_study',
    parameters: (v) => ({ study_instance_uid: v.uid }),
  },
  {
    uriTemplate: 'report://{id}',
    name: 'report',
    title: 'Radiology report',
    description: 'One report with its status, findings and impression, as the caller may see it.',
    mimeType: 'application/json',
    tool: 'reporting_get_report',
    parameters: (v) => ({ report_id: v.id }),
  },
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
