// Builds the Sequelize instance for SQLite (embedded default) or PostgreSQL from configuration.
import fs from 'node:fs';
import path from 'node:path';
import { type Options, Sequelize } from 'sequelize';
import type { Config } from '../../config/config.js';
import type { Logger } from '../../domain/shared/ports.js';
import type { QueryObserver } from '../metrics/metrics.js';
import nodeSqlite from './node-sqlite-driver.js';

export function createSequelize(db: Config['db'], log: Logger, queries?: QueryObserver): Sequelize {
  const debug = log.isDebugEnabled();
  // With an observer, Sequelize times every query (benchmark) and reports after it ran; SQL text
  // only reaches the log at debug level (DEBUG=db).
  const logging = queries
    ? (sql: string, ms?: number) => {
        queries.query(sql, ms ?? 0);
        if (debug) log.debug('sql', { sql, durationMs: ms });
      }
    : debug
      ? (sql: string) => log.debug('sql', { sql })
      : false;
  const options: Options = {
    logging,
    benchmark: queries !== undefined,
    pool: { min: db.pool.min, max: db.pool.max, acquire: db.pool.acquireMs, idle: db.pool.idleMs },
    define: { underscored: true },
  };
  if (db.dialect === 'sqlite') {
    if (db.storage !== ':memory:') fs.mkdirSync(path.dirname(db.storage), { recursive: true });
    return new Sequelize({ ...options, dialect: 'sqlite', dialectModule: nodeSqlite, storage: db.storage });
  }
  const pg: Options = {
    ...options,
    dialect: 'postgres',
    dialectOptions: {
      connectionTimeoutMillis: db.connectTimeoutMs,
      statement_timeout: db.statementTimeoutMs || undefined,
      ...(db.ssl ? { ssl: { rejectUnauthorized: true } } : {}),
    },
  };
  if (db.url) return new Sequelize(db.url, pg);
  return new Sequelize(db.name, db.user, db.password, { ...pg, host: db.host, port: db.port });
}

// SQLite: concurrent readers with one writer, and wait instead of failing on a busy database.
export async function tuneSqlite(sequelize: Sequelize): Promise<void> {
  if (sequelize.getDialect() !== 'sqlite') return;
  await sequelize.query('PRAGMA journal_mode=WAL');
  await sequelize.query('PRAGMA busy_timeout=5000');
  await sequelize.query('PRAGMA foreign_keys=ON');
}
