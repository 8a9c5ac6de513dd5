// A Redis stream read as an ordered event log (infrastructure/events/fanout.ts): cursors are
// stream ids, which Redis assigns in append order and every replica reads alike. XRANGE with an
// exclusive start serves catch-up on the shared connection; the live reader blocks in XREAD on a
// connection of its own (a blocked connection serves nothing else).
import type { Redis } from 'ioredis';
import type { FeedEvent } from '../../domain/events/events.js';
import type { EventLog } from '../events/fanout.js';
import { fromFields } from './event-bus.js';

type Entry = [id: string, fields: string[]];

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

function toFeedEvent([cursor, fields]: Entry): FeedEvent {
  return { cursor, ...fromFields(fields) };
}

export class RedisStreamLog implements EventLog {
  constructor(
    private readonly redis: Redis,
    private readonly blocking: Redis,
    private readonly key: string,
  ) {}

  isCursor(value: string): boolean {
    return STREAM_ID.test(value);
  }

  compare(a: string, b: string): number {
    const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
    const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
    if (am !== bm) return am < bm ? -1 : 1;
    return as === bs ? 0 : as < bs ? -1 : 1;
  }

  async tail(): Promise<string> {
    const last = (await this.redis.xrevrange(this.key, '+', '-', 'COUNT', 1)) as Entry[];
    return last[0]?.[0] ?? '0-0';
  }

  async after(cursor: string, limit: number): Promise<FeedEvent[]> {
    const entries = (await this.redis.xrange(this.key, `(${cursor}`, '+', 'COUNT', limit)) as Entry[];
    return entries.map(toFeedEvent);
  }

  async next(cursor: string, limit: number, waitMs: number): Promise<FeedEvent[]> {
    const reply = (await this.blocking.xread(
      'COUNT',
      limit,
      'BLOCK',
      waitMs,
      'STREAMS',
      this.key,
      cursor,
    )) as [string, Entry[]][] | null;
    return (reply?.[0]?.[1] ?? []).map(toFeedEvent);
  }
}
