// Runs a piece of existing repository code inside one database transaction without changing its
// signatures: Sequelize's CLS hook ("useCLS") makes every query without an explicit transaction join
// the transaction of the current async context. The namespace below is backed by AsyncLocalStorage
// and only holds a transaction inside inTransactionScope(), so every other managed transaction of
// the service (the migrator's advisory lock, for one) behaves exactly as without CLS.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Sequelize, type Transaction } from 'sequelize';

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

// SQLite (the embedded mode) runs on node:sqlite, which is synchronous: a transaction held open
// across awaits would make every other write of the process wait on the busy timeout with the event
// loop blocked. There the work runs without a transaction, one scope at a time per process; a crash
// between the change and its outbox row can lose that event (PostgreSQL has no such gap).
const sqliteQueues = new WeakMap<Sequelize, Promise<unknown>>();

// Runs fn in a managed transaction that every query of fn joins (PostgreSQL); commits when fn
// resolves. On SQLite fn gets no transaction (see above).
export function inTransactionScope<T>(
  sequelize: Sequelize,
  fn: (t: Transaction | undefined) => Promise<T>,
): Promise<T> {
  installScopedTransactions();
  if (sequelize.getDialect() !== 'sqlite') {
    return storage.run(new Map<string, unknown>([[SCOPED, true]]), () => sequelize.transaction((t) => fn(t)));
  }
  const run = () => fn(undefined);
  const previous = sqliteQueues.get(sequelize) ?? Promise.resolve();
  const result = previous.then(run, run);
  sqliteQueues.set(
    sequelize,
    result.catch(() => undefined),
  );
  return result;
}
