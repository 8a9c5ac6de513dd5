// The Redis stream as the event feed's log, in process on a real Redis: what a resuming stream
// client relies on (ids in append order, nothing at or before its cursor, a bounded page) and what
// the live reader relies on (a blocking read that wakes for an event appended while it waits).
import { afterAll, describe, expect, it } from '@jest/globals';
import { RedisStreamBus, newEvent } from '../../src/infrastructure/redis/event-bus.js';
import { RedisStreamLog } from '../../src/infrastructure/redis/stream-log.js';
import { rawRedis, testPrefix } from './support.js';

const redis = rawRedis();
const blocking = rawRedis();
afterAll(() => {
  redis.disconnect();
  blocking.disconnect();
});

describe('RedisStreamLog', () => {
  const bus = new RedisStreamBus(redis, () => rawRedis(), testPrefix('stream-log'));
  const log = new RedisStreamLog(redis, blocking, bus.streamKey('users'));

  it('an empty stream has a tail before every id; ids are recognised and ordered as numbers', async () => {
    expect(await log.tail()).toBe('0-0');
    expect(log.isCursor('1700000000000-3')).toBe(true);
    for (const bad of ['', '12', '1-2-3', 'abc-1', '1-0; DEL x']) expect(log.isCursor(bad)).toBe(false);
    // Numerically, not as text: '9-0' < '10-0', and the sequence part breaks a tie.
    expect(log.compare('9-0', '10-0')).toBe(-1);
    expect(log.compare('10-2', '10-10')).toBe(-1);
    expect(log.compare('10-10', '10-10')).toBe(0);
    expect(log.compare('11-0', '10-99')).toBe(1);
  });

  it('pages after a cursor: in order, exclusive of the cursor, at most the limit', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await bus.publish('users', newEvent('user.created', { n: i })));
    expect(await log.tail()).toBe(ids[4]);

    const page = await log.after(ids[0]!, 3);
    expect(page.map((e) => e.cursor)).toEqual(ids.slice(1, 4));
    expect(page.map((e) => (e.payload as { n: number }).n)).toEqual([1, 2, 3]);
    expect(page[0]).toMatchObject({ type: 'user.created' });
    expect(await log.after(ids[4]!, 10)).toEqual([]);
  });

  it('a blocking read returns at once when events wait, wakes for one appended later, and times out empty', async () => {
    const tail = await log.tail();
    const waiting = log.next(tail, 10, 5000);
    await new Promise((r) => setTimeout(r, 100));
    const id = await bus.publish('users', newEvent('user.updated', { late: true }));
    const woke = await waiting;
    expect(woke.map((e) => e.cursor)).toEqual([id]);

    const started = Date.now();
    expect(await log.next(id, 10, 300)).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});
