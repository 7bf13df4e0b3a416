/**
 * Read-only views of practice data addressed by URI (MCP resources such as `study://{uid}`). A resource is
 * never a second way into the data: each one is backed by a registry tool, and reading it invokes that
 * tool through the invocation pipeline, so authentication, permission, patient scope, redaction and audit
 * are exactly those of the tool.
 */
/** One registry tool behind a resource, and how the URI's variables become its parameters. */
export interface ToolBinding {
  /** The registry tool that produces the content; unused while it is not registered. */
  tool: string;
  /** Maps the URI's variables to the tool's parameters (e.g. `{uid}` → `{study_instance_uid}`). */
  parameters(variables: Readonly<Record<string, string>>): Record<string, unknown>;
}

interface ResourceInfo {
  /** RFC 6570 level-1 template (`study://{uid}`) or a fixed URI (`worklist://today`). */
  uriTemplate: string;
  /** Short machine name, e.g. `study`. */
  name: string;
  title: string;
  /** Written for a model: what the resource holds and when to read it. */
  description: string;
  mimeType: string;
}

/**
 * A resource is either one tool's result, or an object of several tools' results keyed by part name
 * (e.g. a patient summary with a `ris` and a `pacs` part). Each part is its own pipeline call with its
 * tool's permission: a caller sees the parts their role may use, and the resource is offered while at
 * least one part is.
 */
export type ResourceProvider = ResourceInfo &
  (ToolBinding | { parts: Readonly<Record<string, ToolBinding>> });

/** The provider's tools, by part name (`''` for a single-tool resource). */
export function bindingsOf(provider: ResourceProvider): [string, ToolBinding][] {
  return 'parts' in provider ? Object.entries(provider.parts) : [['', provider]];
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
    description:
      "A patient's record in one read: `ris` (demographics, medical aid, orders, appointments) and `pacs` " +
      '(imaging history: studies, modalities, dates). Parts your role may not see are left out; a part whose ' +
      'system cannot answer is listed under `unavailable`. Read it before reporting or scheduling.',
    mimeType: 'application/json',
    parts: {
      ris: { tool: 'ris_get_patient', parameters: (v) => ({ patient_id: v.id }) },
      pacs: { tool: 'pacs_get_patient_history', parameters: (v) => ({ patient_id: v.id }) },
    },
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
