// `npm run migrate` (up) and `npm run migrate -- down`: runs migrations under the lock and exits.
// Not umzug's runAsCLI: its commands call Umzug directly, outside Migrator's lock (a transaction-
// scoped PostgreSQL advisory lock, or the SQLite lock file), which its before/afterCommand events
// cannot wrap in a transaction; and its `create` command writes migration files found by glob,
// where ours are a typed list (infrastructure/db/migrations/index.ts).
import 'reflect-metadata';
import { ConfigError, loadConfig } from '../config/config.js';
import { buildLoggers } from '../composition-root.js';
import { Database } from '../infrastructure/db/database.js';
import { Migrator } from '../infrastructure/db/migrator.js';
import { createSequelize } from '../infrastructure/db/sequelize.js';

async function run(): Promise<number> {
  const config = loadConfig();
  const loggers = buildLoggers(config);
  const log = loggers.get('db');
  const database = new Database(
    createSequelize({ ...config.db, pool: { ...config.db.pool, max: Math.max(2, config.db.pool.max) } }, log),
  );
  try {
    await database.connect();
    const migrator = new Migrator(database.sequelize, log, config.db.storage);
    const direction = process.argv[2] === 'down' ? 'down' : 'up';
    const names = direction === 'down' ? await migrator.down() : await migrator.up();
    log.info(`migrate ${direction} finished`, { applied: names, pending: await migrator.pending() });
    return 0;
  } finally {
    await database.close();
  }
}

run().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `${err instanceof ConfigError ? err.message : `migration failed: ${(err as Error).message}`}\n`,
    );
    process.exit(1);
  },
);
