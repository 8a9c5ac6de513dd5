// Transactional outbox: events are rows written in the transaction of the change they describe, so a
// committed change always has its events; the relay then moves rows to the event bus in order and
// marks them published. Redis down means rows wait (and the lag grows), never that events are lost.
// A crash between publish and the mark publishes a row twice: consumers deduplicate by event id.
import { randomUUID } from 'node:crypto';
import { type ModelStatic, Op, type Sequelize, type Transaction } from 'sequelize';
import type { Logger } from '../../domain/shared/ports.js';
import { silentLogger } from '../logging/silent-logger.js';
import type { DomainEvent, EventBus } from '../redis/event-bus.js';
import { type OutboxRow, outboxModel } from './models.js';

export interface OutboxMessage {
  stream: string;
  type: string;
  payload: unknown;
}

export class Outbox {
  private readonly model: ModelStatic<OutboxRow>;

  constructor(sequelize: Sequelize) {
    this.model = outboxModel(sequelize);
  }

  // Call inside the transaction of the change; the events exist exactly when the change commits.
  // (No transaction only where the database cannot hold one open, see unit-of-work.ts.)
  async add(messages: OutboxMessage[], transaction: Transaction | undefined): Promise<string[]> {
    const rows = messages.map((m) => ({
      eventId: randomUUID(),
      stream: m.stream,
      type: m.type,
      payload: JSON.stringify(m.payload ?? null),
    }));
    await this.model.bulkCreate(rows, { transaction });
    return rows.map((r) => r.eventId);
  }
}

export interface RelayOptions {
  batchSize?: number;
  intervalMs?: number;
  // Backoff after a failed publish grows to this cap.
  maxBackoffMs?: number;
  // Published rows are deleted after this long.
  retentionMs?: number;
  log?: Logger;
}

export interface RelayStats {
  published: number;
  failures: number;
  pending: number;
  oldestPendingAgeMs: number;
}

export class OutboxRelay {
  private readonly model: ModelStatic<OutboxRow>;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private backoffMs = 0;
  private stopped = true;
  private readonly log: Logger;
  readonly totals = { published: 0, failures: 0 };

  constructor(
    private readonly sequelize: Sequelize,
    private readonly bus: EventBus,
    private readonly o: RelayOptions = {},
  ) {
    this.model = outboxModel(sequelize);
    this.log = o.log ?? silentLogger;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  // Kicks the relay right away (after a commit) instead of waiting for the next tick.
  poke(): void {
    if (!this.stopped && this.backoffMs === 0 && !this.running) this.schedule(0);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => (this.running = undefined));
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let moved = 0;
    try {
      moved = await this.relayOnce();
      this.backoffMs = 0;
    } catch (err) {
      this.totals.failures++;
      this.backoffMs = Math.min(Math.max(100, this.backoffMs * 2), this.o.maxBackoffMs ?? 5000);
      this.log.warn('outbox relay: publish failed; rows stay in the outbox', {
        error: (err as Error).message,
        retryInMs: this.backoffMs,
      });
    }
    if (this.stopped) return;
    // A full batch means more may be waiting: go on at once.
    this.schedule(this.backoffMs || (moved >= (this.o.batchSize ?? 100) ? 0 : (this.o.intervalMs ?? 500)));
  }

  // One batch, in order. On PostgreSQL the rows are locked (SKIP LOCKED) so replicas relay disjoint
  // batches; SQLite (embedded, one process, synchronous driver) runs it without a transaction. A
  // publish failure stops the batch and keeps the unpublished rest for the next try.
  async relayOnce(): Promise<number> {
    const { moved, failure } =
      this.sequelize.getDialect() === 'postgres'
        ? await this.sequelize.transaction((t) => this.batch(t))
        : await this.batch(undefined);
    // The failure is reported after the commit, so what was published is marked as such.
    if (failure) throw failure;
    return moved;
  }

  private async batch(transaction: Transaction | undefined): Promise<{ moved: number; failure?: Error }> {
    const rows = await this.model.findAll({
      where: { publishedAt: null },
      order: [['seq', 'ASC']],
      limit: this.o.batchSize ?? 100,
      transaction,
      ...(transaction ? { lock: transaction.LOCK.UPDATE, skipLocked: true } : {}),
    });
    const done: number[] = [];
    let failure: Error | undefined;
    for (const row of rows) {
      const event: DomainEvent = {
        id: row.eventId,
        type: row.type,
        payload: JSON.parse(row.payload),
        occurredAt: row.createdAt.toISOString(),
      };
      try {
        await this.bus.publish(row.stream, event);
        done.push(row.seq);
      } catch (err) {
        failure = err as Error;
        await this.model.update(
          { attempts: row.attempts + 1, lastError: failure.message.slice(0, 500) },
          { where: { seq: row.seq }, transaction },
        );
        break;
      }
    }
    if (done.length > 0) {
      await this.model.update(
        { publishedAt: new Date() },
        { where: { seq: { [Op.in]: done } }, transaction },
      );
      this.totals.published += done.length;
    }
    return { moved: done.length, failure };
  }

  async stats(): Promise<RelayStats> {
    const pending = await this.model.count({ where: { publishedAt: null } });
    const oldest = await this.model.findOne({ where: { publishedAt: null }, order: [['seq', 'ASC']] });
    return {
      ...this.totals,
      pending,
      oldestPendingAgeMs: oldest ? Date.now() - oldest.createdAt.getTime() : 0,
    };
  }

  async purgePublished(): Promise<number> {
    const before = new Date(Date.now() - (this.o.retentionMs ?? 86_400_000));
    return this.model.destroy({ where: { publishedAt: { [Op.lt]: before } } });
  }
}
