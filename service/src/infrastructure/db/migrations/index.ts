// Every migration, in order. Listed explicitly so the compiled service needs no file globbing.
import type { QueryInterface } from 'sequelize';
import * as m0001 from './0001-create-users.js';
import * as m0002 from './0002-create-sessions.js';
import * as m0003 from './0003-create-revoked-tokens.js';
import * as m0010 from './0010-create-outbox-events.js';
import * as m0011 from './0011-session-rotation-grace.js';

export interface MigrationModule {
  up(qi: QueryInterface): Promise<void>;
  down(qi: QueryInterface): Promise<void>;
}

export const MIGRATIONS: { name: string; module: MigrationModule }[] = [
  { name: '0001-create-users', module: m0001 },
  { name: '0002-create-sessions', module: m0002 },
  { name: '0003-create-revoked-tokens', module: m0003 },
  { name: '0010-create-outbox-events', module: m0010 },
  { name: '0011-session-rotation-grace', module: m0011 },
];
