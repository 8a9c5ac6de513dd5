// A small sqlite3-compatible facade over Node's built-in node:sqlite, handed to Sequelize as its
// SQLite `dialectModule`. It spares every fresh clone a native build of the sqlite3 package
// (no prebuilt binary is reachable here, so npm would compile SQLite from source).
// It implements only what Sequelize 6's SQLite dialect calls: Database(file, mode, cb), run, all,
// exec, serialize, close, the OPEN_* flags, and sqlite3-style error codes.
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';

type Callback = (this: RunResult | void, err: Error | null, rows?: unknown) => void;
type Params = unknown[] | Record<string, unknown> | undefined;

interface RunResult {
  lastID: number;
  changes: number;
}

export const OPEN_READONLY = 0x1;
export const OPEN_READWRITE = 0x2;
export const OPEN_CREATE = 0x4;
export const OPEN_FULLMUTEX = 0x10000;

// Primary result codes (the low byte of SQLite's extended codes) that Sequelize tells apart.
const CODE_NAMES: Record<number, string> = {
  1: 'SQLITE_ERROR',
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  8: 'SQLITE_READONLY',
  11: 'SQLITE_CORRUPT',
  14: 'SQLITE_CANTOPEN',
  19: 'SQLITE_CONSTRAINT',
  21: 'SQLITE_MISUSE',
};

function sqlite3Error(err: unknown): Error {
  const e = err as { message?: string; errcode?: number };
  const code = CODE_NAMES[(e.errcode ?? 1) & 0xff] ?? 'SQLITE_ERROR';
  return Object.assign(new Error(`${code}: ${e.message ?? String(err)}`), { code, errno: e.errcode });
}

// sqlite3 binds booleans as 0/1, dates as epoch milliseconds and undefined as NULL; node:sqlite
// refuses all three.
function bindable(v: unknown): SQLInputValue {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.getTime();
  return v as SQLInputValue;
}

// sqlite3 calls back asynchronously; Sequelize relies on that (it stores the handle first).
function later(fn: () => void): void {
  process.nextTick(fn);
}

export class Database {
  readonly filename: string;
  private db?: DatabaseSync;

  constructor(filename: string, mode?: number | Callback, callback?: Callback) {
    const cb = typeof mode === 'function' ? mode : callback;
    const flags = typeof mode === 'number' ? mode : OPEN_READWRITE | OPEN_CREATE;
    this.filename = filename;
    try {
      this.db = new DatabaseSync(filename, { readOnly: (flags & OPEN_READWRITE) === 0 });
      later(() => cb?.call(undefined, null));
    } catch (err) {
      later(() => cb?.call(undefined, sqlite3Error(err)));
    }
  }

  serialize(fn?: () => void): void {
    // Every statement already runs to completion before the next one starts.
    fn?.();
  }

  run(sql: string, params?: Params | Callback, callback?: Callback): this {
    this.execute(sql, params, callback, (stmt, { named, anonymous }) => {
      const r = named ? stmt.run(named) : stmt.run(...anonymous);
      return { context: { lastID: Number(r.lastInsertRowid), changes: Number(r.changes) } };
    });
    return this;
  }

  all(sql: string, params?: Params | Callback, callback?: Callback): this {
    this.execute(sql, params, callback, (stmt, { named, anonymous }) => ({
      // Plain objects: node:sqlite's rows have a null prototype.
      rows: (named ? stmt.all(named) : stmt.all(...anonymous)).map((row) => ({ ...row })),
    }));
    return this;
  }

  exec(sql: string, callback?: Callback): this {
    try {
      this.open().exec(sql);
      later(() => callback?.call(undefined, null));
    } catch (err) {
      later(() => callback?.call(undefined, sqlite3Error(err)));
    }
    return this;
  }

  close(callback?: (err: Error | null) => void): void {
    try {
      if (this.db?.isOpen) this.db.close();
      later(() => callback?.(null));
    } catch (err) {
      later(() => callback?.(sqlite3Error(err)));
    }
  }

  private open(): DatabaseSync {
    if (!this.db) throw Object.assign(new Error('database is not open'), { errcode: 21 });
    return this.db;
  }

  private execute(
    sql: string,
    params: Params | Callback,
    callback: Callback | undefined,
    work: (
      stmt: ReturnType<DatabaseSync['prepare']>,
      args: { named?: Record<string, SQLInputValue>; anonymous: SQLInputValue[] },
    ) => { context?: RunResult; rows?: unknown },
  ): void {
    const cb = typeof params === 'function' ? params : callback;
    const given = typeof params === 'function' ? undefined : params;
    try {
      const stmt = this.open().prepare(sql);
      const args = Array.isArray(given)
        ? { anonymous: given.map(bindable) }
        : given && Object.keys(given).length > 0
          ? {
              named: Object.fromEntries(Object.entries(given).map(([k, v]) => [k, bindable(v)])),
              anonymous: [],
            }
          : { anonymous: [] };
      const { context, rows } = work(stmt, args);
      later(() => cb?.call(context, null, rows));
    } catch (err) {
      later(() => cb?.call(undefined, sqlite3Error(err)));
    }
  }
}

export default { Database, OPEN_READONLY, OPEN_READWRITE, OPEN_CREATE, OPEN_FULLMUTEX };
