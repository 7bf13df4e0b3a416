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

/** One module's part of a resource several modules fill (e.g. the `ris` part of the patient summary). */
export interface ResourcePart extends ToolBinding {
  /** The shared resource's URI template, e.g. `patient://{id}/summary`. */
  resource: string;
  /** The part's key in the result, usually the module's name. */
  part: string;
  /** What the part holds, for the resource's description: `demographics, medical aid, orders`. */
  holds: string;
}

/** A resource made of modules' parts; core declares it, modules fill it. */
interface SharedResource extends ResourceInfo {
  /** Said after the list of parts. */
  note: string;
}

/**
 * Resources several modules fill. Core names no module or tool here: a shared resource is listed only
 * once some module contributes a part.
 */
const SHARED_RESOURCES: readonly SharedResource[] = [
  {
    uriTemplate: 'patient://{id}/summary',
    name: 'patient-summary',
    title: 'Patient summary',
    description: "A patient's record in one read",
    note:
      'Parts your role may not see are left out; a part whose system cannot answer is listed under ' +
      '`unavailable`. Read it before reporting or scheduling.',
    mimeType: 'application/json',
  },
];

/** The resources a deployment offers, from every module's providers and parts. */
export class ResourceCatalog {
  readonly #providers = new Map<string, ResourceProvider>();
  readonly #parts = new Map<string, ResourcePart[]>();

  register(provider: ResourceProvider): void {
    if (this.#providers.has(provider.uriTemplate))
      throw new Error(`Two modules declare the resource ${provider.uriTemplate}`);
    this.#providers.set(provider.uriTemplate, provider);
  }

  addPart(part: ResourcePart): void {
    if (!SHARED_RESOURCES.some((r) => r.uriTemplate === part.resource))
      throw new Error(`No shared resource ${part.resource} for the part "${part.part}"`);
    const parts = this.#parts.get(part.resource) ?? [];
    if (parts.some((p) => p.part === part.part))
      throw new Error(`Two modules fill the part "${part.part}" of ${part.resource}`);
    this.#parts.set(part.resource, [...parts, part]);
  }

  list(): ResourceProvider[] {
    const shared = SHARED_RESOURCES.flatMap((resource): ResourceProvider[] => {
      const parts = this.#parts.get(resource.uriTemplate) ?? [];
      if (parts.length === 0) return [];
      const { note, ...info } = resource;
      const holds = parts.map((p) => `\`${p.part}\` (${p.holds})`);
      const list = holds.length === 1 ? holds[0] : `${holds.slice(0, -1).join(', ')} and ${holds.at(-1)}`;
      return [
        {
          ...info,
          description: `${info.description}: ${list}. ${note}`,
          parts: Object.fromEntries(parts.map((p) => [p.part, { tool: p.tool, parameters: p.parameters }])),
        },
      ];
    });
    return [...shared, ...this.#providers.values()];
  }
}
