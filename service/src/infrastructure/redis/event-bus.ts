// Domain events on Redis Streams with consumer groups: at-least-once delivery with XACK, stuck
// messages (a consumer died holding them) reclaimed with XAUTOCLAIM, and a dead-letter stream for
// messages delivered maxDeliveries times without success. Consumers deduplicate by event id
// (ProcessedSet) because at-least-once means a message can arrive twice.
import { randomUUID } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import type { Logger } from '../../domain/shared/ports.js';
import { silentLogger } from '../logging/silent-logger.js';

export interface DomainEvent {
  id: string;
  type: string;
  payload: unknown;
  occurredAt: string;
}

export interface Delivery {
  streamId: string;
  deliveries: number;
}

export type EventHandler = (event: DomainEvent, delivery: Delivery) => Promise<void>;

export interface ConsumerOptions {
  group: string;
  consumer: string;
  batchSize?: number;
  blockMs?: number;
  // A message pending this long with its consumer is taken over by another.
  minIdleMs?: number;
  // After this many deliveries a failing message goes to the dead-letter stream.
  maxDeliveries?: number;
  // Where a new group starts: '0' = the whole stream, '$' = only new messages.
  startAt?: '0' | '$';
}

export interface EventConsumer {
  stop(): Promise<void>;
}

export interface EventBus {
  readonly kind: 'redis' | 'in-process';
  publish(stream: string, event: DomainEvent): Promise<string>;
  subscribe(stream: string, handler: EventHandler, options: ConsumerOptions): Promise<EventConsumer>;
}

export function newEvent(type: string, payload: unknown, id: string = randomUUID()): DomainEvent {
  return { id, type, payload, occurredAt: new Date().toISOString() };
}

export interface StreamStats {
  length: number;
  pending: number;
  deadLettered: number;
}

function toFields(e: DomainEvent): string[] {
  return [
    'id',
    e.id,
    'type',
    e.type,
    'occurredAt',
    e.occurredAt,
    'payload',
    JSON.stringify(e.payload ?? null),
  ];
}

export function fromFields(fields: string[]): DomainEvent {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) m.set(fields[i]!, fields[i + 1]!);
  return {
    id: m.get('id') ?? '',
    type: m.get('type') ?? '',
    occurredAt: m.get('occurredAt') ?? '',
    payload: JSON.parse(m.get('payload') ?? 'null'),
  };
}

type StreamEntry = [id: string, fields: string[]];

export class RedisStreamBus implements EventBus {
  readonly kind = 'redis' as const;

  // publisher: a shared connection; connect(): a new connection per consumer (XREADGROUP BLOCK holds it).
  constructor(
    private readonly publisher: Redis,
    private readonly connect: (role: string) => Redis,
    private readonly keyPrefix: string,
    private readonly log: Logger = silentLogger,
    private readonly maxLength = 100_000,
  ) {}

  streamKey(stream: string): string {
    return `${this.keyPrefix}events:${stream}`;
  }

  deadLetterKey(stream: string): string {
    return `${this.streamKey(stream)}:dead`;
  }

  async publish(stream: string, event: DomainEvent): Promise<string> {
    // Approximate trimming keeps the stream bounded at almost no cost.
    const id = await this.publisher.xadd(
      this.streamKey(stream),
      'MAXLEN',
      '~',
      this.maxLength,
      '*',
      ...toFields(event),
    );
    return id ?? '';
  }

  async stats(stream: string, group: string): Promise<StreamStats> {
    const key = this.streamKey(stream);
    const [length, pending, dead] = await Promise.all([
      this.publisher.xlen(key),
      this.publisher.xpending(key, group).catch(() => [0]) as Promise<unknown[]>,
      this.publisher.xlen(this.deadLetterKey(stream)),
    ]);
    return { length, pending: Number(pending[0] ?? 0), deadLettered: dead };
  }

  async subscribe(stream: string, handler: EventHandler, o: ConsumerOptions): Promise<EventConsumer> {
    const key = this.streamKey(stream);
    const redis = this.connect(`consumer-${o.group}-${o.consumer}`);
    try {
      await redis.xgroup('CREATE', key, o.group, o.startAt ?? '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
    let running = true;
    const loop = this.run(redis, stream, handler, o, () => running).catch((err: Error) =>
      this.log.error('event consumer stopped on an error', { stream, group: o.group, error: err.message }),
    );
    return {
      stop: async () => {
        running = false;
        await loop;
        redis.disconnect();
      },
    };
  }

  private async run(
    redis: Redis,
    stream: string,
    handler: EventHandler,
    o: ConsumerOptions,
    running: () => boolean,
  ) {
    const key = this.streamKey(stream);
    const batch = o.batchSize ?? 100;
    const minIdle = o.minIdleMs ?? 30_000;
    let lastReclaim = 0;
    while (running()) {
      try {
        if (Date.now() - lastReclaim >= Math.min(minIdle, 5000)) {
          lastReclaim = Date.now();
          await this.reclaim(redis, stream, handler, o);
        }
        const reply = (await redis.xreadgroup(
          'GROUP',
          o.group,
          o.consumer,
          'COUNT',
          batch,
          'BLOCK',
          o.blockMs ?? 1000,
          'STREAMS',
          key,
          '>',
        )) as [string, StreamEntry[]][] | null;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) await this.handle(redis, stream, handler, o, id, fields, 1);
        }
      } catch (err) {
        if (!running()) break;
        this.log.warn('event consumer: redis call failed, retrying', {
          stream,
          error: (err as Error).message,
        });
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  // Takes over messages idle for minIdleMs (their consumer died or hangs); the ones already
  // delivered maxDeliveries times go to the dead-letter stream instead of being retried again.
  private async reclaim(redis: Redis, stream: string, handler: EventHandler, o: ConsumerOptions) {
    const key = this.streamKey(stream);
    const minIdle = o.minIdleMs ?? 30_000;
    const maxDeliveries = o.maxDeliveries ?? 5;
    let cursor = '0-0';
    do {
      const [next, claimed] = (await redis.xautoclaim(
        key,
        o.group,
        o.consumer,
        minIdle,
        cursor,
        'COUNT',
        o.batchSize ?? 100,
      )) as [string, StreamEntry[], string[]?];
      cursor = next;
      if (claimed.length === 0) continue;
      // XAUTOCLAIM counted this claim as a delivery; XPENDING tells how many there were.
      const first = claimed[0]![0];
      const last = claimed[claimed.length - 1]![0];
      const pending = (await redis.xpending(key, o.group, first, last, claimed.length, o.consumer)) as [
        string,
        string,
        number,
        number,
      ][];
      const counts = new Map(pending.map(([id, , , n]) => [id, Number(n)]));
      for (const [id, fields] of claimed) {
        if (!fields) continue;
        const deliveries = counts.get(id) ?? 1;
        if (deliveries > maxDeliveries) await this.deadLetter(redis, stream, o.group, id, fields, deliveries);
        else await this.handle(redis, stream, handler, o, id, fields, deliveries);
      }
    } while (cursor !== '0-0');
  }

  private async handle(
    redis: Redis,
    stream: string,
    handler: EventHandler,
    o: ConsumerOptions,
    id: string,
    fields: string[],
    deliveries: number,
  ) {
    try {
      await handler(fromFields(fields), { streamId: id, deliveries });
      await redis.xack(this.streamKey(stream), o.group, id);
    } catch (err) {
      // Left pending: reclaimed after minIdleMs, dead-lettered after maxDeliveries.
      this.log.warn('event handler failed; the message stays pending', {
        stream,
        id,
        deliveries,
        error: (err as Error).message,
      });
    }
  }

  private async deadLetter(
    redis: Redis,
    stream: string,
    group: string,
    id: string,
    fields: string[],
    deliveries: number,
  ) {
    await redis
      .multi()
      .xadd(
        this.deadLetterKey(stream),
        '*',
        ...fields,
        'sourceId',
        id,
        'group',
        group,
        'deliveries',
        String(deliveries),
      )
      .xack(this.streamKey(stream), group, id)
      .exec();
    this.log.warn('event moved to the dead-letter stream', { stream, id, deliveries });
  }
}

// The embedded default: handlers run in this process, with the same retry-then-dead-letter rule.
export class InProcessEventBus implements EventBus {
  readonly kind = 'in-process' as const;
  private readonly handlers = new Map<string, Set<{ handler: EventHandler; maxDeliveries: number }>>();
  readonly deadLetters: { stream: string; event: DomainEvent }[] = [];

  async publish(stream: string, event: DomainEvent): Promise<string> {
    for (const h of this.handlers.get(stream) ?? []) void this.deliver(stream, h, event);
    return event.id;
  }

  private async deliver(
    stream: string,
    h: { handler: EventHandler; maxDeliveries: number },
    event: DomainEvent,
  ) {
    for (let n = 1; n <= h.maxDeliveries; n++) {
      try {
        await h.handler(event, { streamId: event.id, deliveries: n });
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 10 * n));
      }
    }
    this.deadLetters.push({ stream, event });
  }

  async subscribe(stream: string, handler: EventHandler, o: ConsumerOptions): Promise<EventConsumer> {
    let set = this.handlers.get(stream);
    if (!set) this.handlers.set(stream, (set = new Set()));
    const entry = { handler, maxDeliveries: o.maxDeliveries ?? 5 };
    set.add(entry);
    return { stop: async () => void set.delete(entry) };
  }
}

// Deduplication for at-least-once consumers: applyOnce runs the Redis effects queued by `effects`
// in one MULTI together with the "processed" mark, under WATCH of the mark, so an event's effects
// land exactly once even if two consumers hold the same message. Use a connection of its own (WATCH
// state is per connection). Marks expire after ttlSeconds (longer than any redelivery window).
export class ProcessedSet {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly name: string,
    private readonly ttlSeconds = 7 * 86_400,
  ) {}

  private mark(id: string): string {
    return `${this.keyPrefix}processed:${this.name}:${id}`;
  }

  async has(id: string): Promise<boolean> {
    return (await this.redis.exists(this.mark(id))) === 1;
  }

  // true when the effects were applied now; false when the event had been processed already.
  async applyOnce(id: string, effects: (tx: ChainableCommander) => void): Promise<boolean> {
    for (;;) {
      await this.redis.watch(this.mark(id));
      if ((await this.redis.exists(this.mark(id))) === 1) {
        await this.redis.unwatch();
        return false;
      }
      const tx = this.redis.multi();
      effects(tx);
      tx.set(this.mark(id), '1', 'EX', this.ttlSeconds);
      // null: the mark changed since WATCH (another consumer got there); look again.
      if ((await tx.exec()) !== null) return true;
    }
  }
}
