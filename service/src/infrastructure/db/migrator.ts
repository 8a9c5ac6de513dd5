// Applies umzug migrations under a lock, so replicas starting together never race:
// a PostgreSQL advisory lock held by a transaction, or a lock file next to the SQLite database.
import fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import type { Logger } from '../../domain/shared/ports.js';
import { MIGRATIONS } from './migrations/index.js';

// Any fixed 64-bit number; it only has to be the same for every replica of this service.
const ADVISORY_LOCK_KEY = 727_274_001;
const SQLITE_LOCK_STALE_MS = 120_000;

export class Migrator {
  private readonly umzug: Umzug<Sequelize>;

  constructor(
    private readonly sequelize: Sequelize,
    private readonly log: Logger,
    // The SQLite database file; its lock file sits next to it.
    private readonly sqliteStorage?: string,
    private readonly lockWaitMs = 120_000,
  ) {
    const qi = sequelize.getQueryInterface();
    this.umzug = new Umzug({
      migrations: MIGRATIONS.map(({ name, module }) => ({
        name,
        up: () => module.up(qi),
        down: () => module.down(qi),
      })),
      context: sequelize,
      storage: new SequelizeStorage({ sequelize, tableName: 'schema_migrations' }),
      logger: {
        info: (m) => log.info('migration', m),
        warn: (m) => log.warn('migration', m),
        error: (m) => log.error('migration', m),
        debug: (m) => log.debug('migration', m),
      },
    });
  }

  // Returns the names of the migrations this call applied (empty when another run did them).
  async up(): Promise<string[]> {
    return this.withLock(async () => (await this.umzug.up()).map((m) => m.name));
  }

  async down(): Promise<string[]> {
    return this.withLock(async () => (await this.umzug.down()).map((m) => m.name));
  }

  async pending(): Promise<string[]> {
    return (await this.umzug.pending()).map((m) => m.name);
  }

  private async withLock<T>(work: () => Promise<T>): Promise<T> {
    if (this.sequelize.getDialect() === 'postgres') {
      // The transaction pins one connection that holds the lock until commit; umzug runs on
      // other pool connections meanwhile, so the pool needs at least two.
      return this.sequelize.transaction(async (transaction) => {
        await this.sequelize.query('SET LOCAL statement_timeout = 0', { transaction });
        await this.sequelize.query(`SET LOCAL lock_timeout = '${Math.ceil(this.lockWaitMs)}ms'`, {
          transaction,
        });
        await this.sequelize.query('SELECT pg_advisory_xact_lock(:key)', {
          replacements: { key: ADVISORY_LOCK_KEY },
          transaction,
        });
        return work();
      });
    }
    const storage = this.sqliteStorage;
    if (!storage || storage === ':memory:') return work();
    const lockFile = `${storage}.migrate.lock`;
    await this.acquireFileLock(lockFile);
    try {
      return await work();
    } finally {
      await fs.rm(lockFile, { force: true });
    }
  }

  private async acquireFileLock(lockFile: string): Promise<void> {
    const deadline = Date.now() + this.lockWaitMs;
    for (;;) {
      try {
        await fs.writeFile(lockFile, String(process.pid), { flag: 'wx' });
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const stat = await fs.stat(lockFile).catch(() => undefined);
      if (stat && Date.now() - stat.mtimeMs > SQLITE_LOCK_STALE_MS) {
        this.log.warn('removing a stale migration lock', { lockFile });
        await fs.rm(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the migration lock ${lockFile}`);
      await sleep(100);
    }
  }
}
