// The event bus on a real Redis (and the outbox on a real PostgreSQL): no loss across consumer
// crashes, effects once, dead letters, and events written during a Redis outage delivered later.
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { Sequelize } from 'sequelize';
import { up as createOutboxTable } from '../../src/infrastructure/db/migrations/0010-create-outbox-events.js';
import { createRedisConnection, settingsFromUrl } from '../../src/infrastructure/redis/connection.js';
import { type DomainEvent, RedisStreamBus, newEvent } from '../../src/infrastructure/redis/event-bus.js';
import { Outbox, OutboxRelay } from '../../src/infrastructure/db/outbox.js';
import { REDIS_URL, figure, rawRedis, redisCtl, sleep, startWorker, testPrefix, waitFor } from './support.js';

const clients: Redis[] = [];
const conn = (role = 'test') => {
  const c = createRedisConnection({ ...settingsFromUrl(REDIS_URL), commandTimeoutMs: 5000 }, role);
  clients.push(c);
  return c;
};
afterAll(() => clients.forEach((c) => c.disconnect()));

describe('RedisStreamBus', () => {
  it('10,000 events, consumer killed and restarted twice: none lost, effects once, nothing pending', async () => {
    const prefix = testPrefix('bus');
    const redis = rawRedis();
    clients.push(redis);
    const bus = new RedisStreamBus(redis, () => conn('consumer'), prefix);
    const total = 10_000;
    const t0 = performance.now();
    let consumer = startWorker('stream-consumer', { PREFIX: prefix, CONSUMER: 'c1' });
    await consumer.next();

    const publishing = (async () => {
      for (let i = 0; i < total; i += 100) {
        await Promise.all(
          Array.from({ length: 100 }, (_, j) => bus.publish('users', newEvent('user.updated', { n: i + j }))),
        );
        await sleep(25);
      }
    })();
    const kills: number[] = [];
    for (const next of ['c2', 'c3']) {
      await sleep(800);
      consumer.child.kill('SIGKILL');
      await consumer.exited;
      kills.push(Number(await redis.hlen(`${prefix}effects`)));
      consumer = startWorker('stream-consumer', { PREFIX: prefix, CONSUMER: next });
      await consumer.next();
    }
    await publishing;
    const publishedMs = performance.now() - t0;
    await waitFor('every effect', 60_000, async () => (await redis.hlen(`${prefix}effects`)) === total);
    await waitFor('nothing pending', 30_000, async () => (await bus.stats('users', 'effects')).pending === 0);
    const wallMs = Math.round(performance.now() - t0);
    consumer.child.kill('SIGTERM');
    await consumer.exited;

    const effects = await redis.hgetall(`${prefix}effects`);
    const values = Object.values(effects).map(Number);
    const deliveries = Number(await redis.get(`${prefix}deliveries`));
    const stats = await bus.stats('users', 'effects');
    figure('event bus 10k with 2 consumer kills', {
      events: total,
      effectsApplied: values.length,
      appliedMoreThanOnce: values.filter((v) => v !== 1).length,
      deliveries,
      duplicateDeliveries: deliveries - total,
      effectsAtKills: kills,
      pending: stats.pending,
      deadLettered: stats.deadLettered,
      publishMs: Math.round(publishedMs),
      wallMs,
    });
    expect(values).toHaveLength(total);
    expect(values.every((v) => v === 1)).toBe(true);
    expect(stats.pending).toBe(0);
    expect(stats.deadLettered).toBe(0);
    expect(deliveries).toBeGreaterThanOrEqual(total);
  });

  it('a message that keeps failing goes to the dead-letter stream after maxDeliveries', async () => {
    const prefix = testPrefix('bus-dlq');
    const bus = new RedisStreamBus(conn(), () => conn('consumer'), prefix);
    const seen: number[] = [];
    const consumer = await bus.subscribe(
      'users',
      async (e: DomainEvent, d) => {
        if (e.type === 'poison') {
          seen.push(d.deliveries);
          throw new Error('cannot handle');
        }
      },
      { group: 'g', consumer: 'c', minIdleMs: 100, blockMs: 50, maxDeliveries: 3 },
    );
    await bus.publish('users', newEvent('poison', {}));
    await bus.publish('users', newEvent('fine', {}));
    await waitFor('dead letter', 15_000, async () => (await bus.stats('users', 'g')).deadLettered === 1);
    await consumer.stop();
    const stats = await bus.stats('users', 'g');
    figure('event bus dead letter', { deliveriesSeen: seen, ...stats });
    expect(seen).toEqual([1, 2, 3]);
    expect(stats.pending).toBe(0);
  });
});

describe('OutboxRelay', () => {
  const databaseUrl = process.env.DATABASE_URL;
  it('events written while Redis is down arrive after it returns, in order, none lost', async () => {
    if (!databaseUrl) throw new Error('DATABASE_URL is not set: run through make test-redis');
    const sequelize = new Sequelize(databaseUrl, { logging: false });
    try {
      await sequelize.getQueryInterface().dropTable('outbox_events');
      await createOutboxTable(sequelize.getQueryInterface());
      const prefix = testPrefix('outbox');
      const publisher = conn('outbox');
      const bus = new RedisStreamBus(publisher, () => conn('consumer'), prefix);
      const outbox = new Outbox(sequelize);
      const relay = new OutboxRelay(sequelize, bus, { intervalMs: 50, maxBackoffMs: 300 });
      relay.start();

      await sequelize.transaction((t) =>
        outbox.add([{ stream: 'users', type: 'user.created', payload: { n: -1 } }], t),
      );
      await waitFor('first event relayed', 5000, async () => (await relay.stats()).pending === 0);

      redisCtl('stop');
      const ids: string[] = [];
      let downMs = 0;
      try {
        const t0 = performance.now();
        for (let i = 0; i < 200; i++) {
          ids.push(
            ...(await sequelize.transaction((t) =>
              outbox.add([{ stream: 'users', type: 'user.updated', payload: { n: i } }], t),
            )),
          );
        }
        // A rolled-back change leaves no event.
        await sequelize
          .transaction(async (t) => {
            await outbox.add([{ stream: 'users', type: 'user.deleted', payload: { n: 'rolled back' } }], t);
            throw new Error('rollback');
          })
          .catch(() => undefined);
        await sleep(1000);
        downMs = Math.round(performance.now() - t0);
        const during = await relay.stats();
        figure('outbox during redis outage', {
          written: 200,
          pending: during.pending,
          relayFailures: during.failures,
          oldestPendingAgeMs: during.oldestPendingAgeMs,
        });
        expect(during.pending).toBe(200);
      } finally {
        redisCtl('start');
      }
      const t1 = performance.now();
      await waitFor('outbox drained', 30_000, async () => (await relay.stats()).pending === 0);
      const drainMs = Math.round(performance.now() - t1);
      await relay.stop();
      // The server came back empty (no persistence), so the stream holds exactly what was relayed after.
      const entries = await publisher.xrange(bus.streamKey('users'), '-', '+');
      const relayed = entries.map(([, fields]) => fields[fields.indexOf('id') + 1]);
      figure('outbox after redis returned', { relayed: relayed.length, drainMs, outageMs: downMs });
      expect(relayed).toEqual(ids);
    } finally {
      await sequelize.close();
    }
  });
});
