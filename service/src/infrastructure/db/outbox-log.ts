// The outbox table read as an ordered event log (infrastructure/events/fanout.ts), for the
// embedded mode without Redis: cursors are the rows' sequence numbers. Every committed row stays
// readable whether or not the relay has published it. Sequence order is commit order: on SQLite
// the process writes one unit at a time, on PostgreSQL the unit of work takes a lock for the rows
// it adds (unit-of-work.ts), so a reader never sees a row after one with a higher number. The live
// reader waits for a commit of this process (poke) or the poll interval, which finds the commits
// of other processes.
import { type ModelStatic, Op, type Sequelize } from 'sequelize';
import type { FeedEvent } from '../../domain/events/events.js';
import type { EventLog } from '../events/fanout.js';
import { type OutboxRow, outboxModel } from './models.js';

const SEQ = /^\d{1,18}$/;

export class OutboxLog implements EventLog {
  private readonly model: ModelStatic<OutboxRow>;
  private waiters = new Set<() => void>();

  constructor(
    sequelize: Sequelize,
    private readonly stream: string,
  ) {
    this.model = outboxModel(sequelize);
  }

  isCursor(value: string): boolean {
    return SEQ.test(value);
  }

  compare(a: string, b: string): number {
    const x = BigInt(a);
    const y = BigInt(b);
    return x === y ? 0 : x < y ? -1 : 1;
  }

  // A commit of this process: the live reader looks now instead of at the next poll.
  poke(): void {
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const w of waiters) w();
  }

  async tail(): Promise<string> {
    const max = (await this.model.max('seq', { where: { stream: this.stream } })) as number | string | null;
    return String(max ?? 0);
  }

  async after(cursor: string, limit: number): Promise<FeedEvent[]> {
    const rows = await this.model.findAll({
      where: { stream: this.stream, seq: { [Op.gt]: cursor } },
      order: [['seq', 'ASC']],
      limit,
    });
    return rows.map((r) => ({
      cursor: String(r.seq),
      id: r.eventId,
      type: r.type,
      payload: JSON.parse(r.payload) as unknown,
      occurredAt: r.createdAt.toISOString(),
    }));
  }

  async next(cursor: string, limit: number, waitMs: number, signal: AbortSignal): Promise<FeedEvent[]> {
    // Registered before the read, so a commit landing during it wakes the wait below.
    let woken = false;
    let wakeUp: () => void = () => undefined;
    const waiter = () => {
      woken = true;
      wakeUp();
    };
    this.waiters.add(waiter);
    try {
      const now = await this.after(cursor, limit);
      if (now.length > 0 || signal.aborted) return now;
      if (!woken) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve();
          };
          const timer = setTimeout(done, waitMs);
          timer.unref();
          wakeUp = done;
          signal.addEventListener('abort', done);
        });
      }
      return signal.aborted ? [] : await this.after(cursor, limit);
    } finally {
      this.waiters.delete(waiter);
    }
  }
}
