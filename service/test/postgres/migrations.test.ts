import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Sequelize } from 'sequelize';
import { Database } from '../../src/infrastructure/db/database.js';
import { Migrator } from '../../src/infrastructure/db/migrator.js';
import { MIGRATIONS } from '../../src/infrastructure/db/migrations/index.js';
import { createSequelize } from '../../src/infrastructure/db/sequelize.js';
import { loadConfig } from '../../src/config/config.js';
import { LoggerFactory } from '../../src/infrastructure/logging/logger.js';
import { PassThrough } from 'node:stream';
import { createPgDatabase } from '../support/harness.js';
import { distEntry, runNode } from '../support/processes.js';

const quietLog = new LoggerFactory({
  level: 'error',
  format: 'json',
  debugCategories: [],
  service: 't',
  stream: new PassThrough(),
}).get('db');

async function appliedNames(url: string): Promise<{ name: string; count: number }[]> {
  const s = new Sequelize(url, { logging: false });
  try {
    const [rows] = await s.query(
      'SELECT name, count(*)::int AS count FROM schema_migrations GROUP BY name ORDER BY name',
    );
    return rows as { name: string; count: number }[];
  } finally {
    await s.close();
  }
}

describe('migrations on PostgreSQL', () => {
  let db: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    db = await createPgDatabase();
  });
  afterAll(async () => db.drop());

  it('twenty concurrent `npm run migrate` processes apply each migration exactly once and all exit 0', async () => {
    const entry = distEntry('cli/migrate.js');
    const runs = await Promise.all(
      Array.from({ length: 20 }, () =>
        runNode(entry, { DATABASE_URL: db.url, LOG_LEVEL: 'info', DB_POOL_MAX: '2' }, 120_000),
      ),
    );
    const failures = runs.filter((r) => r.code !== 0);
    expect(failures.map((r) => r.stderr)).toEqual([]);
    // Exactly one run applied the migrations; the other nineteen found nothing pending.
    const appliers = runs.filter((r) => r.stdout.includes('"event":"migrated"'));
    expect(appliers).toHaveLength(1);
    expect(await appliedNames(db.url)).toEqual(MIGRATIONS.map((m) => ({ name: m.name, count: 1 })));
  }, 180_000);

  it('migrates down and up again', async () => {
    const database = new Database(createSequelize(loadConfig({ DATABASE_URL: db.url }).db, quietLog));
    try {
      const migrator = new Migrator(database.sequelize, quietLog);
      expect(await migrator.pending()).toEqual([]);
      expect(await migrator.down()).toEqual([MIGRATIONS.at(-1)?.name]);
      expect(await migrator.pending()).toEqual([MIGRATIONS.at(-1)?.name]);
      expect(await migrator.up()).toEqual([MIGRATIONS.at(-1)?.name]);
    } finally {
      await database.close();
    }
  });
});

describe('migrations on SQLite', () => {
  it('serialises concurrent runs with a lock file and leaves no lock behind', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esp-mig-'));
    const storage = path.join(dir, 'db.sqlite');
    try {
      const runs = await Promise.all(
        Array.from({ length: 4 }, () =>
          runNode(distEntry('cli/migrate.js'), { DB_DIALECT: 'sqlite', DB_STORAGE: storage }),
        ),
      );
      expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
      expect(runs.filter((r) => r.stdout.includes('"event":"migrated"'))).toHaveLength(1);
      expect(fs.existsSync(`${storage}.migrate.lock`)).toBe(false);

      // A stale lock left by a crashed run is taken over.
      fs.writeFileSync(`${storage}.migrate.lock`, '999999');
      const old = new Date(Date.now() - 10 * 60_000);
      fs.utimesSync(`${storage}.migrate.lock`, old, old);
      const database = new Database(
        createSequelize(loadConfig({ DB_DIALECT: 'sqlite', DB_STORAGE: storage }).db, quietLog),
      );
      try {
        const migrator = new Migrator(database.sequelize, quietLog, storage);
        expect(await migrator.up()).toEqual([]);
        expect(fs.existsSync(`${storage}.migrate.lock`)).toBe(false);
        // A live lock makes a run wait, and give up at its deadline.
        fs.writeFileSync(`${storage}.migrate.lock`, '1');
        await expect(new Migrator(database.sequelize, quietLog, storage, 300).up()).rejects.toThrow(
          /timed out waiting for the migration lock/,
        );
      } finally {
        await database.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
