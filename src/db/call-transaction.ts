import { AsyncLocalStorage } from 'node:async_hooks';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type TransactionSettings,
} from 'kysely';

/**
 * One transaction per write call. While a write tool runs, every statement any module issues through
 * this database (its own `db.transaction()` included, which becomes a savepoint) runs on one connection in
 * one transaction, together with the call's idempotency key, its stored result and its audit intent. After
 * a crash the write is either wholly there (a retry replays it) or wholly absent (a retry runs it once).
 *
 * Modules need not know: the database's Kysely driver is wrapped (`ambientDialect`) to use the call's
 * connection when there is one. Background work (the audit writer, the outbox dispatcher) runs outside
 * any call (`outsideCallTransaction`), so it never lands in a caller's transaction.
 */
interface CallScope {
  /**
   * The call's connection with its transaction begun, opened by the call's first statement: a write that
   * never touches the database (an upload to the PACS) holds no connection while it runs; on PGlite, whose
   * one connection a transaction holds, that would stop every other call for the length of the upload.
   */
  opened?: Promise<DatabaseConnection>;
  /** Run once the call's transaction has committed (never if it rolls back). */
  readonly afterCommit: (() => void)[];
  /** False once the call's transaction has ended: later work started inside it uses the pool again. */
  active: boolean;
  savepoints: number;
}

const storage = new AsyncLocalStorage<CallScope>();

function ambient(): CallScope | undefined {
  const scope = storage.getStore();
  return scope?.active ? scope : undefined;
}

/** Whether this code runs inside a write call's transaction. */
export function inCallTransaction(): boolean {
  return ambient() !== undefined;
}

/**
 * Runs `fn` once what the current call wrote is visible to everyone: after its transaction commits, or at
 * once outside a call. For caches of data the call changed (invalidated earlier, another call could read
 * the old value back in before the commit).
 */
export function afterCallCommit(fn: () => void): void {
  const scope = ambient();
  if (scope) scope.afterCommit.push(fn);
  else fn();
}

/** Runs `fn` as if no call were in progress: for work that must use connections of its own. */
export function outsideCallTransaction<T>(fn: () => T): T {
  return storage.exit(fn);
}

/** A connection handed out for the ambient call: releasing it gives nothing back (the call does). */
class BorrowedConnection implements DatabaseConnection {
  constructor(
    readonly scope: CallScope,
    readonly connection: DatabaseConnection,
  ) {}
  executeQuery: DatabaseConnection['executeQuery'] = (query) => this.connection.executeQuery(query);
  streamQuery: DatabaseConnection['streamQuery'] = (query, chunkSize) =>
    this.connection.streamQuery(query, chunkSize);
}

/** One holder at a time, in arrival order. */
class Mutex {
  #tail: Promise<void> = Promise.resolve();

  async lock(): Promise<() => void> {
    let unlock!: () => void;
    const held = new Promise<void>((resolve) => {
      unlock = resolve;
    });
    const before = this.#tail;
    this.#tail = before.then(() => held);
    await before;
    return unlock;
  }
}

/**
 * A driver that lends the ambient call's connection, and turns transactions on it into savepoints. For an
 * engine with one connection (PGlite) it also does what Kysely would otherwise do above it: one user of
 * the connection at a time, where a call's transaction is one user from BEGIN to COMMIT (its own queries
 * pass; everyone else's wait). Kysely's own lock is per query and would let other calls' queries run
 * inside the call's transaction.
 */
class AmbientDriver implements Driver {
  readonly #names = new WeakMap<DatabaseConnection, string[]>();
  readonly #unlocks = new WeakMap<DatabaseConnection, () => void>();
  readonly #exclusive: Mutex | undefined;
  #initialized: Promise<void> | undefined;

  constructor(
    readonly inner: Driver,
    singleConnection: boolean,
  ) {
    this.#exclusive = singleConnection ? new Mutex() : undefined;
  }

  /** The engine's connection, exclusively when it has only one. */
  async #acquire(): Promise<DatabaseConnection> {
    const unlock = await this.#exclusive?.lock();
    try {
      const connection = await this.inner.acquireConnection();
      if (unlock) this.#unlocks.set(connection, unlock);
      return connection;
    } catch (error) {
      unlock?.();
      throw error;
    }
  }

  async #release(connection: DatabaseConnection): Promise<void> {
    try {
      await this.inner.releaseConnection(connection);
    } finally {
      const unlock = this.#unlocks.get(connection);
      this.#unlocks.delete(connection);
      unlock?.();
    }
  }

  /** Once, whether Kysely or a call transaction asks first. */
  init(): Promise<void> {
    this.#initialized ??= this.inner.init();
    return this.#initialized;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const scope = ambient();
    return scope ? new BorrowedConnection(scope, await this.#open(scope)) : this.#acquire();
  }

  /** The call's connection, its transaction begun by the first statement that needs it. */
  #open(scope: CallScope): Promise<DatabaseConnection> {
    scope.opened ??= (async () => {
      const connection = await this.#acquire();
      try {
        await this.inner.beginTransaction(connection, {});
        return connection;
      } catch (error) {
        await this.#release(connection);
        throw error;
      }
    })();
    return scope.opened;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    if (!(connection instanceof BorrowedConnection)) return this.inner.beginTransaction(connection, settings);
    const name = `upc_sp_${++connection.scope.savepoints}`;
    this.#names.set(connection, [...(this.#names.get(connection) ?? []), name]);
    await connection.executeQuery(CompiledQuery.raw(`SAVEPOINT ${name}`));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    if (!(connection instanceof BorrowedConnection)) return this.inner.commitTransaction(connection);
    await connection.executeQuery(CompiledQuery.raw(`RELEASE SAVEPOINT ${this.#pop(connection)}`));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (!(connection instanceof BorrowedConnection)) return this.inner.rollbackTransaction(connection);
    await connection.executeQuery(CompiledQuery.raw(`ROLLBACK TO SAVEPOINT ${this.#pop(connection)}`));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    if (connection instanceof BorrowedConnection) return;
    return this.#release(connection);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }

  #pop(connection: DatabaseConnection): string {
    const names = this.#names.get(connection) ?? [];
    const name = names.pop();
    if (!name) throw new Error('savepoint ended twice');
    return name;
  }

  /** Runs `fn` inside a transaction on a connection of its own that every query in `fn` shares. */
  async runInTransaction<T>(fn: () => Promise<T>): Promise<T> {
    const outer = ambient();
    if (outer) return nested(outer, await this.#open(outer), fn); // a call made by a call joins it
    await this.init();
    const scope: CallScope = { active: true, savepoints: 0, afterCommit: [] };
    let result: T;
    try {
      result = await storage.run(scope, fn);
    } catch (error) {
      scope.active = false;
      await this.#end(scope, 'rollback').catch(() => {});
      throw error;
    }
    scope.active = false;
    await this.#end(scope, 'commit');
    for (const fn of scope.afterCommit) fn();
    return result;
  }

  /** Commits or rolls back the call's transaction, if a statement opened one, and gives its connection back. */
  async #end(scope: CallScope, how: 'commit' | 'rollback'): Promise<void> {
    const opened = scope.opened?.catch(() => undefined);
    const connection = await opened;
    if (!connection) return;
    try {
      if (how === 'commit') await this.inner.commitTransaction(connection);
      else await this.inner.rollbackTransaction(connection);
    } finally {
      await this.#release(connection);
    }
  }
}

/** A call inside a call: a savepoint in the outer call's transaction. */
async function nested<T>(outer: CallScope, connection: DatabaseConnection, fn: () => Promise<T>): Promise<T> {
  const name = `upc_call_${++outer.savepoints}`;
  const run = (statement: string) => connection.executeQuery(CompiledQuery.raw(statement));
  await run(`SAVEPOINT ${name}`);
  try {
    const result = await fn();
    await run(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (error) {
    await run(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => {});
    throw error;
  }
}

/** Runs a function in one transaction that every query on this database joins (see above). */
export type CallTransactionRunner = <T>(fn: () => Promise<T>) => Promise<T>;

/**
 * Wraps a dialect so that its driver joins the ambient call transaction. Returns the dialect and the
 * runner that starts such a transaction on it.
 */
export function ambientDialect(dialect: Dialect): {
  dialect: Dialect;
  runInTransaction: CallTransactionRunner;
} {
  let driver: AmbientDriver | undefined;
  const adapter = dialect.createAdapter();
  const singleConnection = adapter.supportsMultipleConnections === false;
  const wrapped: Dialect = {
    createDriver: () => {
      driver = new AmbientDriver(dialect.createDriver(), singleConnection);
      return driver;
    },
    createQueryCompiler: () => dialect.createQueryCompiler(),
    // The driver takes over the one-connection lock (above), so Kysely must not take its own.
    createAdapter: () =>
      singleConnection
        ? Object.create(adapter, { supportsMultipleConnections: { value: true } })
        : dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
  };
  return {
    dialect: wrapped,
    runInTransaction: (fn) => {
      if (!driver) throw new Error('the database is not open yet');
      return driver.runInTransaction(fn);
    },
  };
}
