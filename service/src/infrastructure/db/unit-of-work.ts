// The unit of work on Sequelize: the work's statements and its outbox rows in one transaction,
// with the transaction passed explicitly to the repository the work is given. After the commit
// the recorded events go to the listener (cache invalidation, relay wake-up) before run() returns.
//
// SQLite (the embedded mode) runs on node:sqlite, which is synchronous: a transaction held open
// across awaits would make every other write of the process wait on the busy timeout with the event
// loop blocked. There the work runs without a transaction, one unit at a time per process; a crash
// between the change and its outbox row can lose that event (PostgreSQL has no such gap).
import type { Transaction } from 'sequelize';
import type { DomainEventDraft, UnitOfWork, WorkScope } from '../../domain/shared/unit-of-work.js';
import type { Database } from './database.js';
import { Outbox } from './outbox.js';
import { SequelizeUserRepository } from './repositories/user.repository.js';

// An arbitrary constant naming the lock (pg_advisory_xact_lock takes a 64-bit key).
const OUTBOX_ORDER_LOCK = 0x6f7574626f78;

export type CommittedListener = (events: DomainEventDraft[]) => Promise<void>;

export class SequelizeUnitOfWork implements UnitOfWork {
  private readonly outbox: Outbox;
  private readonly plainUsers: SequelizeUserRepository;
  // The tail of the SQLite queue: each unit starts when the one before it has settled.
  private sqliteTail: Promise<unknown> = Promise.resolve();

  // orderedCommits: the event feed reads the outbox table itself (no Redis stream), so commits must
  // make outbox rows visible in the order of their numbers. With Redis the feed is the stream and
  // writes are not serialised for it.
  constructor(
    private readonly db: Database,
    private readonly committed: CommittedListener = async () => undefined,
    private readonly orderedCommits = true,
  ) {
    this.outbox = new Outbox(db.sequelize);
    this.plainUsers = new SequelizeUserRepository(db);
  }

  async run<T>(work: (scope: WorkScope) => Promise<T>): Promise<T> {
    const events: DomainEventDraft[] = [];
    const result = await (this.db.dialect === 'sqlite'
      ? this.serially(() => this.unit(work, events, undefined))
      : this.db.sequelize.transaction((t) => this.unit(work, events, t)));
    await this.committed(events);
    return result;
  }

  private async unit<T>(
    work: (scope: WorkScope) => Promise<T>,
    events: DomainEventDraft[],
    transaction: Transaction | undefined,
  ): Promise<T> {
    const users = transaction ? new SequelizeUserRepository(this.db, transaction) : this.plainUsers;
    const result = await work({ users, record: (event) => events.push(event) });
    if (events.length > 0) {
      // Held from numbering the rows to the commit, so outbox rows become visible in the order of
      // their sequence numbers: a reader of the table resuming after a number (the event feed
      // without Redis, outbox-log.ts) can never find a lower one committed later. Only the end of
      // each write is serialised, not its reads and checks.
      if (transaction && this.orderedCommits) {
        await this.db.sequelize.query('SELECT pg_advisory_xact_lock(:key)', {
          replacements: { key: OUTBOX_ORDER_LOCK },
          transaction,
        });
      }
      await this.outbox.add(events, transaction);
    }
    return result;
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.sqliteTail.then(fn, fn);
    this.sqliteTail = result.catch(() => undefined);
    return result;
  }
}
