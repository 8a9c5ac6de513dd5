// Runs a piece of existing repository code inside one database transaction without changing its
// signatures: Sequelize's CLS hook ("useCLS") makes every query without an explicit transaction join
// the transaction of the current async context. The namespace below is backed by AsyncLocalStorage
// and only holds a transaction inside inTransactionScope(), so every other managed transaction of
// the service (the migrator's advisory lock, for one) behaves exactly as without CLS.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Sequelize, Transaction } from 'sequelize';

type Context = Map<string, unknown>;
const SCOPED = 'esp.scoped';
const storage = new AsyncLocalStorage<Context>();

const namespace = {
  run(fn: (ctx: Context) => unknown): unknown {
    const parent = storage.getStore();
    if (!parent?.get(SCOPED)) return fn(new Map());
    const ctx = new Map(parent);
    return storage.run(ctx, () => fn(ctx));
  },
  bind<F>(fn: F): F {
    return fn;
  },
  get(key: string): unknown {
    return storage.getStore()?.get(key);
  },
  set(key: string, value: unknown): void {
    const ctx = storage.getStore();
    if (ctx?.get(SCOPED)) ctx.set(key, value);
  },
};

let installed = false;

export function installScopedTransactions(): void {
  if (installed) return;
  Sequelize.useCLS(namespace);
  installed = true;
}

// SQLite has one writer and Sequelize gives each transaction a fresh connection with no busy
// timeout: two deferred transactions that read then write deadlock (SQLITE_BUSY at once). So on
// SQLite the scoped transactions of this process run one at a time, BEGIN IMMEDIATE (the write lock
// first), on connections that wait for other writers like the default one does (tuneSqlite).
const sqliteQueues = new WeakMap<Sequelize, Promise<unknown>>();
const patched = new WeakSet<Sequelize>();

interface SqliteConnection {
  configure?(option: 'busyTimeout', ms: number): void;
}

function waitOnBusy(sequelize: Sequelize): void {
  if (patched.has(sequelize)) return;
  patched.add(sequelize);
  // connectionManager is not in Sequelize's public types; getConnection is its documented role.
  const cm = (sequelize as unknown as { connectionManager: { getConnection(o?: unknown): Promise<SqliteConnection> } }).connectionManager;
  const original = cm.getConnection.bind(cm);
  cm.getConnection = async (o?: unknown) => {
    const connection = await original(o);
    connection.configure?.('busyTimeout', 5000);
    return connection;
  };
}

// Runs fn in a managed transaction that every query of fn joins; commits when fn resolves.
export function inTransactionScope<T>(sequelize: Sequelize, fn: (t: Transaction) => Promise<T>): Promise<T> {
  installScopedTransactions();
  const sqlite = sequelize.getDialect() === 'sqlite';
  const run = () =>
    storage.run(new Map<string, unknown>([[SCOPED, true]]), () =>
      sequelize.transaction(sqlite ? { type: Transaction.TYPES.IMMEDIATE } : {}, fn),
    );
  if (!sqlite) return run();
  waitOnBusy(sequelize);
  const previous = sqliteQueues.get(sequelize) ?? Promise.resolve();
  const result = previous.then(run, run);
  sqliteQueues.set(sequelize, result.catch(() => undefined));
  return result;
}
