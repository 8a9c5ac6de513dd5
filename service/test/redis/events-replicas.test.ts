// GET /api/v1/events with Redis on two replicas: the feed is the Redis stream the outbox relay
// fills, so a change committed on one replica reaches subscribers of the other, and a client may
// resume on either replica after an id the other sent.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openSse, type SseMessage } from '../support/sse.js';
import type { TestService } from '../support/harness.js';
import { figure, startTwoReplicas, testPrefix, type Replicas } from './support.js';

const PASSWORD = 'Correct-Horse-9!x';
const data = (m: SseMessage) => JSON.parse(m.data) as { id: string; type: string; payload: { id: string } };
const userEvents = (m: SseMessage) => m.event.startsWith('user.');

describe('event stream across two replicas (Redis)', () => {
  let r: Replicas;
  let admin: string;

  beforeAll(async () => {
    r = await startTwoReplicas(testPrefix('sse'), { EVENTS_AUTH_RECHECK_MS: '300' });
    admin = await r.a.login();
  });
  afterAll(async () => r.stop());

  const stream = (s: TestService, token: string, headers: Record<string, string> = {}) =>
    openSse(`${s.baseUrl}/api/v1/events`, { authorization: `Bearer ${token}`, ...headers });
  const createUser = async (s: TestService, email: string) => {
    const res = await s.request<{ id: string }>('POST', '/api/v1/users', {
      token: admin,
      body: { email, name: 'Someone', password: PASSWORD },
    });
    expect(res.status).toBe(201);
    return res.body.id;
  };
  const rename = async (s: TestService, id: string, name: string) => {
    for (;;) {
      const got = await s.request<{ version: number }>('GET', `/api/v1/users/${id}`, { token: admin });
      const res = await s.request('PATCH', `/api/v1/users/${id}`, {
        token: admin,
        headers: { 'if-match': `"${got.body.version}"` },
        body: { name },
      });
      // The other writer got there first (or the cached read was behind): read again.
      if (res.status === 412) continue;
      expect(res.status).toBe(200);
      return;
    }
  };

  it('delivers a change committed on one replica to a subscriber of the other, with stream ids', async () => {
    const onB = await stream(r.b, admin);
    expect(onB.status).toBe(200);
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = Date.now();
      const id = await createUser(r.a, `cross-${i}@example.test`);
      const [m] = await onB.waitFor(1, 10_000, (x) => userEvents(x) && data(x).payload.id === id);
      latencies.push(Date.now() - t0);
      expect(m!.event).toBe('user.created');
      expect(m!.id).toMatch(/^\d+-\d+$/);
    }
    onB.close();
    latencies.sort((x, y) => x - y);
    figure('sse cross-replica', { p50Ms: latencies[5], maxMs: latencies[9] });
  });

  it('resumes on the other replica after Last-Event-ID with nothing missed or repeated, writes going on on both', async () => {
    const one = await createUser(r.a, 'resume-1@example.test');
    const two = await createUser(r.b, 'resume-2@example.test');
    // Subscribers that stay: each replica's reader is live and current, so what the resumed
    // client missed is behind that reader and has to come from the stream itself.
    const keepers = await Promise.all([stream(r.a, admin), stream(r.b, admin)]);
    const first = await stream(r.a, admin);
    const writes = Promise.all([
      (async () => {
        for (let i = 0; i < 20; i++) await rename(r.a, one, `a ${i}`);
      })(),
      (async () => {
        for (let i = 0; i < 20; i++) await rename(r.b, two, `b ${i}`);
      })(),
    ]);
    // The created events may still be on their way through a relay: count the renames.
    const renames = (m: SseMessage) => m.event === 'user.updated';
    const before = await first.waitFor(10, 30_000, renames);
    first.close();
    const lastId = before[before.length - 1]!.id!;
    await new Promise((res) => setTimeout(res, 200));
    const second = await stream(r.b, admin, { 'last-event-id': lastId });
    await writes;
    const afterResume = await second.waitFor(40 - before.length, 30_000, renames);
    await new Promise((res) => setTimeout(res, 300));
    second.close();
    for (const k of keepers) k.close();
    const all = [...before, ...second.messages.filter(renames)];
    expect(all.length).toBe(40);
    expect(afterResume.length).toBe(40 - before.length);
    // Every write's event exactly once, each replica's in the order it made them.
    const ids = all.map((m) => data(m).id);
    expect(new Set(ids).size).toBe(40);
    for (const user of [one, two]) {
      const versions = all
        .filter((m) => data(m).payload.id === user)
        .map((m) => (data(m).payload as unknown as { version: number }).version);
      expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    }
    const cursors = [...before, ...second.messages].filter(userEvents).map((m) => m.id!);
    expect([...cursors].sort(compareStreamIds)).toEqual(cursors);
  });

  it('closes a stream on one replica when its token is revoked on the other', async () => {
    await createUser(r.a, 'erin@example.test');
    const erin = await r.a.login('erin@example.test', PASSWORD);
    const onB = await stream(r.b, erin);
    expect(onB.status).toBe(200);
    const t0 = Date.now();
    expect((await r.a.request('POST', '/api/v1/auth/logout', { token: erin })).status).toBe(204);
    await onB.ended;
    const ms = Date.now() - t0;
    expect(JSON.parse(onB.messages.find((m) => m.event === 'close')!.data)).toMatchObject({
      reason: 'unauthorized',
    });
    expect(ms).toBeLessThan(1500);
    figure('sse revoked on the other replica', { closedAfterMs: ms, recheckMs: 300 });
  });
});

function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}
