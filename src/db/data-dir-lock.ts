/**
 * One owner per embedded data directory. PGlite is PostgreSQL in this process: two processes opening the
 * same files do not share anything, and the second one's writes (or the first one's) are lost. So the
 * process that opens ./data takes a lock file first; a second process learns who owns it (pid, command,
 * URL) and either works through that owner or stops with one line saying what to do.
 *
 * The lock survives `kill -9` of its owner as a stale file: the next opener sees the pid is gone (or is
 * now another program, by its start time) and takes it over.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

const LOCK_FILE = 'upc-mcp.lock';

export interface DataDirOwner {
  pid: number;
  /** What the owner is doing: serve, stdio, migrate, ... */
  command: string;
  /** Where a server owner answers (serve only), so another process can work through it. */
  url?: string;
  started_at: string;
  /** The owner's start time in clock ticks since boot (Linux), to tell a reused pid from the owner. */
  proc_start?: string;
}

export class DataDirBusyError extends Error {
  constructor(
    readonly dataDir: string,
    readonly owner: DataDirOwner,
  ) {
    super(
      `${dataDir} is in use by upc-mcp ${owner.command} (pid ${owner.pid}${owner.url ? `, ${owner.url}` : ''}). ` +
        'The embedded database has one owner at a time.',
    );
    this.name = 'DataDirBusyError';
  }
}

export interface DataDirLock {
  readonly file: string;
  /** Records where this owner answers (a server, once it listens). */
  setUrl(url: string): void;
  release(): void;
}

let currentCommand = 'serve';

/** Names what this process does, for the lock file (set by the CLI before it opens anything). */
export function setOwnerCommand(command: string): void {
  currentCommand = command;
}

export function lockFileOf(dataDir: string): string {
  return path.join(path.resolve(dataDir), LOCK_FILE);
}

/** The live owner of a data directory, or undefined when it is free (a stale lock counts as free). */
export function ownerOf(dataDir: string): DataDirOwner | undefined {
  const file = lockFileOf(dataDir);
  if (!existsSync(file)) return undefined;
  let owner: DataDirOwner;
  try {
    owner = JSON.parse(readFileSync(file, 'utf8')) as DataDirOwner;
  } catch {
    return undefined; // half-written by an owner killed mid-write: stale
  }
  return isAlive(owner) ? owner : undefined;
}

/** Takes the data directory for this process, or throws DataDirBusyError naming its owner. */
export function lockDataDir(dataDir: string): DataDirLock {
  const file = lockFileOf(dataDir);
  for (let attempt = 0; attempt < 3; attempt++) {
    const me: DataDirOwner = {
      pid: process.pid,
      command: currentCommand,
      started_at: new Date().toISOString(),
      ...(procStart(process.pid) ? { proc_start: procStart(process.pid) } : {}),
    };
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = ownerOf(dataDir);
      if (owner) throw new DataDirBusyError(path.resolve(dataDir), owner);
      // Stale (its process is gone): take it over.
      try {
        unlinkSync(file);
      } catch {
        // another process took it over first; try again
      }
      continue;
    }
    writeSync(fd, JSON.stringify(me));
    closeSync(fd);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.off('exit', release);
      try {
        const stored = JSON.parse(readFileSync(file, 'utf8')) as DataDirOwner;
        if (stored.pid === process.pid) unlinkSync(file);
      } catch {
        // already gone
      }
    };
    process.on('exit', release);
    return {
      file,
      setUrl(url: string) {
        const stored = JSON.parse(readFileSync(file, 'utf8')) as DataDirOwner;
        if (stored.pid !== process.pid) return;
        const tmp = `${file}.${process.pid}`;
        const fdTmp = openSync(tmp, 'w', 0o600);
        writeSync(fdTmp, JSON.stringify({ ...stored, url }));
        closeSync(fdTmp);
        // rename is atomic: a reader sees the old or the new owner record, never half of one
        renameSync(tmp, file);
      },
      release,
    };
  }
  throw new Error(`Could not take ${file}: it keeps changing hands.`);
}

function isAlive(owner: DataDirOwner): boolean {
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user: alive.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A pid the system gave to another program since: its start time differs.
  const started = procStart(owner.pid);
  return !(owner.proc_start && started && owner.proc_start !== started);
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined where there is no /proc. */
function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}
