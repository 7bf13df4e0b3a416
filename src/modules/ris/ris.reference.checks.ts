/**
 * Checks on reference data shared by the tools and the CSV import, and the NOT_FOUND errors that name close
 * matches ("Unknown procedure code 3012. Close matches: 3011 (CT head without contrast), ...") and the tool
 * that lists the valid values.
 */
import { closeMatches } from '../../core/close-matches.js';
import { ToolError } from '../../core/errors.js';
import type { CodesApi, DayLike } from '../codes/codes.api.js';
import { allPhysicians, type PhysicianEntry } from './ris.physicians.store.js';
import { listProcedureEntries, type ProcedureEntry, procedureEntry } from './ris.procedures.store.js';
import { listModalities, roomNames } from './ris.rooms.store.js';
import type { RisDb } from './ris.tables.js';

const MATCHES = 3;

const listing = (items: readonly string[]) =>
  items.length > 0 ? ` Close matches: ${items.join(', ')}.` : '';

/** Active procedures (of a modality, if given) whose code or name is close to `typed`: up to three. */
export async function proceduresLike(
  db: RisDb,
  typed: string,
  filter: { modality?: string } = {},
): Promise<ProcedureEntry[]> {
  const procedures = await listProcedureEntries(db, { ...filter, includeInactive: false, limit: 10_000 });
  return closeMatches(
    typed,
    procedures.map((p) => ({ key: p.procedureCode, label: p.description, value: p })),
    MATCHES,
  );
}

/** NOT_FOUND for a procedure code: a deactivated one says so; otherwise up to three close active codes. */
export async function procedureNotFound(db: RisDb, code: string): Promise<ToolError> {
  const details = { procedure_code: code, list_with: 'ris_list_procedures' };
  const inactive = await procedureEntry(db, code);
  if (inactive && !inactive.active) {
    return new ToolError(
      'NOT_FOUND',
      `Procedure ${inactive.procedureCode} (${inactive.description}) is deactivated. Choose another (ris_list_procedures) or ask an administrator to reactivate it (ris_update_procedure).`,
      { ...details, close_matches: [] },
    );
  }
  const matches = await proceduresLike(db, code);
  return new ToolError(
    'NOT_FOUND',
    `Unknown procedure code ${code}.${listing(matches.map((p) => `${p.procedureCode} (${p.description})`))} List valid codes with ris_list_procedures.`,
    {
      ...details,
      close_matches: matches.map((p) => ({
        procedure_code: p.procedureCode,
        description: p.description,
        modality: p.modality,
      })),
    },
  );
}

/** NOT_FOUND for a room name, with up to three close room names. */
export async function roomNotFound(db: RisDb, room: string): Promise<ToolError> {
  const rooms = await roomNames(db, { includeInactive: true });
  const matches = closeMatches(
    room,
    rooms.map((r) => ({ key: r.room, label: r.description, value: r })),
    MATCHES,
  );
  return new ToolError(
    'NOT_FOUND',
    `No room ${room}.${listing(matches.map((r) => `${r.room} (${r.modality}${r.active ? '' : ', out of use'})`))} List rooms with ris_list_rooms.`,
    {
      room,
      list_with: 'ris_list_rooms',
      close_matches: matches.map((r) => ({ room: r.room, modality: r.modality, active: r.active })),
    },
  );
}

/**
 * NOT_FOUND for a referring physician's practice number: a deactivated one says so; otherwise up to three
 * physicians whose number is a few digits off.
 */
export async function physicianNotFound(
  db: RisDb,
  practiceNumber: string,
  found?: { active: boolean; title: string; familyName: string },
  options: { includeInactive?: boolean } = {},
): Promise<ToolError> {
  const details = { referring_practice_number: practiceNumber, list_with: 'ris_search_physicians' };
  if (found && !found.active) {
    return new ToolError(
      'NOT_FOUND',
      `${found.title} ${found.familyName} (practice number ${practiceNumber}) is deactivated and takes no new orders. Ask an administrator to reactivate them (ris_update_physician), or find the referrer with ris_search_physicians.`,
      { ...details, close_matches: [] },
    );
  }
  const physicians = await allPhysicians(db, { includeInactive: options.includeInactive ?? false });
  const matches = closeMatches(
    practiceNumber,
    physicians.map((p) => ({ key: p.practiceNumber, value: p })),
    MATCHES,
  );
  return new ToolError(
    'NOT_FOUND',
    `No referring physician with practice number ${practiceNumber}.${listing(matches.map(physicianLabel))} Find the physician by name with ris_search_physicians; an administrator adds a new one with ris_add_physician.`,
    {
      ...details,
      close_matches: matches.map((p) => ({ practice_number: p.practiceNumber, name: physicianLabel(p) })),
    },
  );
}

export function physicianLabel(
  p: Pick<PhysicianEntry, 'practiceNumber' | 'title' | 'givenNames' | 'familyName'>,
) {
  return `${p.practiceNumber} ${p.title} ${p.givenNames} ${p.familyName}`;
}

/** Physicians named like `name` (for a search that found nothing): up to three. */
export async function physiciansNamedLike(db: RisDb, name: string): Promise<PhysicianEntry[]> {
  const physicians = await allPhysicians(db, { includeInactive: false });
  return closeMatches(
    name,
    physicians.map((p) => ({
      key: `${p.givenNames} ${p.familyName}`,
      label: `${p.givenNames} ${p.familyName}`,
      value: p,
    })),
    MATCHES,
  );
}

/** "XY is not a modality of this practice (CT, MR, ...)", or undefined for a known modality. */
export async function unknownModality(db: RisDb, modality: string): Promise<string | undefined> {
  const known = await listModalities(db);
  if (known.some((m) => m.modality === modality)) return undefined;
  return `${modality} is not a modality of this practice (${known.map((m) => m.modality).join(', ')})`;
}

/**
 * Problems with the tariff codes of a procedure of `modality`, by position: each must be a tariff item in
 * force on `asOf` (the codes module), and an item tied to a modality must be of the procedure's.
 */
export async function tariffCodeProblems(
  codes: CodesApi,
  tariffCodes: readonly string[],
  modality: string,
  asOf: DayLike,
): Promise<{ index: number; message: string }[]> {
  const problems: { index: number; message: string }[] = [];
  for (const [index, code] of tariffCodes.entries()) {
    const item = await codes.tariffItem(code, asOf);
    if (!item) {
      problems.push({
        index,
        message: `${code} is not a tariff item in force today; list items with codes_list_tariff_items (or import the tariff table)`,
      });
    } else if (item.modality !== null && item.modality !== modality) {
      problems.push({
        index,
        message: `${code} (${item.description}) is a ${item.modality} item, but the procedure is ${modality}`,
      });
    }
  }
  return problems;
}

/** The default tariff link of a new procedure: its own code, when that is a tariff item in force. */
export async function defaultTariffCodes(
  codes: CodesApi,
  procedureCode: string,
  asOf: DayLike,
): Promise<string[]> {
  return (await codes.tariffItem(procedureCode, asOf)) ? [procedureCode] : [];
}
