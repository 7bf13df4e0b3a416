import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { archiveBefore } from '../audit/audit.archive.js';
import { verifyAgainstCheckpoints, writeCheckpoint } from '../audit/audit.checkpoint.js';
import { auditKey, checkpointFile } from '../audit/audit.key.js';
import { auditDb, exportEvents } from '../audit/audit.store.js';
import { CSV_HEADER, csvRows } from '../audit/audit.tools.js';
import { verifyChain } from '../audit/audit.verify.js';
import type { Config } from '../config.js';
import { openDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { fail, ok, warn } from './output.js';

export const AUDIT_HELP = `Usage: upc-mcp audit <verify|export|archive> [options]

  verify                             walk the hash chain and report the first broken link, if any
  export [--from ISO] [--to ISO] [--format jsonl|csv] [--out FILE]
                                     write events (oldest first) for a SIEM; stdout when no --out
  archive [--before ISO] --out FILE  move events older than --before (default: AUDIT_RETENTION_DAYS ago)
                                     to FILE (JSON Lines) and seal them; the live chain keeps verifying`;

export async function auditCommand(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      before: { type: 'string' },
      format: { type: 'string', default: 'jsonl' },
      out: { type: 'string' },
    },
    strict: true,
  });
  // No statement time limit: verifying or archiving a long audit log may run for minutes. Archiving runs
  // with its own credentials when given (a login in role upc_audit_archiver): the application's cannot.
  const url =
    sub === 'archive' && config.AUDIT_ARCHIVE_DATABASE_URL ? config.AUDIT_ARCHIVE_DATABASE_URL : undefined;
  const database = await openDatabase({
    ...config,
    ...(url ? { DATABASE_URL: url } : {}),
    DATABASE_STATEMENT_TIMEOUT_MS: 0,
  });
  const key = auditKey(config);
  const checkpoints = checkpointFile(config);
  try {
    if (!url) await migrate(database);
    const db = auditDb(database.db);
    switch (sub) {
      case 'verify': {
        const result = await verifyChain(db, (n) => {
          if (n % 100_000 === 0) process.stderr.write(`  checked ${n} events\n`);
        });
        if (!result.ok) {
          console.log(fail(`audit chain BROKEN at event ${result.broken?.id}: ${result.broken?.reason}`));
          console.log(`  ${result.checked} events before it verified`);
          return 1;
        }
        // The chain is consistent in itself; now against the signed checkpoints kept outside the database.
        const anchored = await verifyAgainstCheckpoints(db, key, checkpoints);
        if (!anchored.ok) {
          console.log(fail(`audit chain BROKEN against its signed checkpoints: ${anchored.reason}`));
          return 1;
        }
        console.log(
          ok(
            `audit chain intact: ${result.checked} events checked (ids ${result.startedAfterId + 1}..${result.lastId})`,
          ),
        );
        console.log(
          anchored.checkpoints > 0
            ? ok(
                `matches ${anchored.checkpoints} signed checkpoints (latest ${anchored.latest?.at}, event ${anchored.latest?.last_id})`,
              )
            : warn(`no signed checkpoints in ${checkpoints}: checked against itself only`),
        );
        return 0;
      }
      case 'export': {
        if (values.format !== 'jsonl' && values.format !== 'csv') throw new Error('--format is jsonl or csv');
        const chunks: string[] = values.format === 'csv' ? [CSV_HEADER] : [];
        let after = 0;
        for (;;) {
          const events = await exportEvents(db, { from: values.from, to: values.to }, after, 5_000);
          if (events.length === 0) break;
          chunks.push(...(values.format === 'csv' ? csvRows(events) : events.map((e) => JSON.stringify(e))));
          after = events.at(-1)!.id;
        }
        const text = chunks.length ? `${chunks.join('\n')}\n` : '';
        if (values.out) {
          writeFileSync(values.out, text, { flag: 'wx' });
          console.error(ok(`exported to ${values.out}`));
        } else process.stdout.write(text);
        return 0;
      }
      case 'archive': {
        if (!values.out) throw new Error('--out FILE is required');
        const before = values.before
          ? new Date(values.before)
          : config.AUDIT_RETENTION_DAYS
            ? new Date(Date.now() - config.AUDIT_RETENTION_DAYS * 86_400_000)
            : undefined;
        if (!before || Number.isNaN(before.getTime())) {
          throw new Error(
            'give --before ISO-DATE, or set AUDIT_RETENTION_DAYS (by default everything is kept)',
          );
        }
        const result = await archiveBefore(db, before, values.out);
        // A signed checkpoint of the new start: otherwise verify would take the archive for a trimming.
        if (result) await writeCheckpoint(db, key, checkpoints, 'archive');
        console.log(
          result
            ? ok(
                `archived ${result.archived} events (ids ${result.firstId}..${result.lastId}) to ${result.file}, sha256 ${result.sha256}`,
              )
            : ok(`nothing older than ${before.toISOString()} to archive`),
        );
        return 0;
      }
      default:
        console.error(AUDIT_HELP);
        return 2;
    }
  } finally {
    await database.close();
  }
}
