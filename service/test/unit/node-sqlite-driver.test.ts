import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import driver, { Database, OPEN_READONLY } from '../../src/infrastructure/db/node-sqlite-driver.js';

function call<T>(
  fn: (cb: (this: unknown, err: Error | null, rows?: T) => void) => void,
): Promise<{ err: Error | null; rows?: T; self: unknown }> {
  return new Promise((resolve) =>
    fn(function (this: unknown, err, rows) {
      resolve({ err, rows, self: this });
    }),
  );
}

describe('the sqlite3-compatible node:sqlite driver', () => {
  it('opens asynchronously, runs, binds like sqlite3 and reports sqlite3 error codes', async () => {
    let db!: Database;
    let assignedBeforeCallback = false;
    await new Promise<void>((resolve, reject) => {
      db = new driver.Database(':memory:', driver.OPEN_READWRITE | driver.OPEN_CREATE, (err) => {
        assignedBeforeCallback = db !== undefined;
        if (err) reject(err);
        else resolve();
      });
    });
    expect(assignedBeforeCallback).toBe(true);
    expect(db.filename).toBe(':memory:');
    db.serialize(() => undefined);
    expect(
      (
        await call((cb) =>
          db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, flag, at, note, name TEXT UNIQUE)', cb),
        )
      ).err,
    ).toBeNull();

    const inserted = await call((cb) =>
      db.run(
        'INSERT INTO t (flag, at, note, name) VALUES (?, ?, ?, ?)',
        [true, new Date(5), undefined, 'a'],
        cb,
      ),
    );
    expect(inserted.err).toBeNull();
    expect(inserted.self).toEqual({ lastID: 1, changes: 1 });
    await call((cb) => db.run('INSERT INTO t (name) VALUES ($name)', { $name: 'b' }, cb));

    const rows = await call<Record<string, unknown>[]>((cb) =>
      db.all('SELECT flag, at, note, name FROM t ORDER BY id', cb),
    );
    expect(rows.rows).toEqual([
      { flag: 1, at: 5, note: null, name: 'a' },
      { flag: null, at: null, note: null, name: 'b' },
    ]);
    expect(Object.getPrototypeOf(rows.rows?.[0])).toBe(Object.prototype);

    const dup = await call((cb) => db.run('INSERT INTO t (name) VALUES ($1)', { $1: 'a' }, cb));
    expect(dup.err).toMatchObject({
      code: 'SQLITE_CONSTRAINT',
      message: expect.stringMatching(/^SQLITE_CONSTRAINT: UNIQUE constraint failed: t\.name/),
    });
    expect((await call((cb) => db.all('SELECT nope FROM t', [], cb))).err).toMatchObject({
      code: 'SQLITE_ERROR',
    });
    expect((await call((cb) => db.exec('NOT SQL', cb))).err).toMatchObject({ code: 'SQLITE_ERROR' });

    await new Promise<void>((resolve) => db.close(() => resolve()));
    await new Promise<void>((resolve) => db.close(() => resolve()));
  });

  it('reports a database that cannot be opened, and refuses statements on it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsd-'));
    try {
      const missing = path.join(dir, 'absent', 'db.sqlite');
      let db!: Database;
      const err = await new Promise<Error | null>((resolve) => {
        db = new Database(missing, OPEN_READONLY, resolve);
      });
      expect(err).toMatchObject({ code: 'SQLITE_CANTOPEN' });
      expect((await call((cb) => db.run('SELECT 1', cb))).err).toMatchObject({ code: 'SQLITE_MISUSE' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
