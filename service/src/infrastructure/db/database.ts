// The database handle shared by repositories: Sequelize, its models, a ping and an orderly close.
import type { Sequelize } from 'sequelize';
import { defineModels, type Models } from './models.js';
import { tuneSqlite } from './sequelize.js';

export class Database {
  readonly models: Models;

  constructor(readonly sequelize: Sequelize) {
    this.models = defineModels(sequelize);
  }

  get dialect(): string {
    return this.sequelize.getDialect();
  }

  async connect(): Promise<void> {
    await this.sequelize.authenticate();
    await tuneSqlite(this.sequelize);
  }

  async ping(): Promise<void> {
    await this.sequelize.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.sequelize.close();
  }
}
