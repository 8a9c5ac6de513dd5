// Cached auth state across an outage that keeps Redis's data (a partition of one replica): a
// deactivation made there cannot delete the cached account and session, so without a replay the
// other replica would honour them for their whole TTL. The missed deletes are replayed when Redis
// is reachable again, and the in-process tier is dropped then, so the change holds everywhere right
// after. (A Redis restart loses its data, which would hide the problem.)
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestService } from '../support/harness.js';
import { figure, sleep, startTwoReplicas, testPrefix, waitFor, type Replicas } from './support.js';

describe('auth state across a Redis outage, two replicas', () => {
  let a: TestService;
  let b: TestService;
  let replicas: Replicas | undefined;

  beforeAll(async () => {
    // Entries that would live five minutes; an in-process copy half a second.
    replicas = await startTwoReplicas(testPrefix('outage'), {
      CACHE_TTL_S: '300',
      CACHE_LOCAL_TTL_MS: '500',
    });
    ({ a, b } = replicas);
  });
  afterAll(async () => {
    await replicas?.stop();
  });

  it('a user disabled during the outage is refused on the other replica once Redis is back', async () => {
    const admin = await a.login();
    const created = await a.request<{ id: string; version: number }>('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'outage@example.com', name: 'O', password: 'Correct-Horse-9' },
    });
    expect(created.status).toBe(201);
    const user = await a.login('outage@example.com', 'Correct-Horse-9');
    // Replica b caches the account and the session (in Redis and in process).
    expect((await b.request('GET', '/api/v1/auth/me', { token: user })).status).toBe(200);

    // Replica a loses Redis (a partition: Redis keeps its data, b still reaches it).
    const aRedis = a.composition.distributed.redis!;
    aRedis.disconnect();
    try {
      const disabled = await a.request('PATCH', `/api/v1/users/${created.body.id}`, {
        token: admin,
        body: { status: 'disabled' },
        headers: { 'if-match': `"${created.body.version}"` },
      });
      expect(disabled.status).toBe(200);
    } finally {
      await aRedis.connect();
    }
    await waitFor('replica a to reach Redis again', 10_000, () => aRedis.status === 'ready');
    // Past the in-process cap: whatever b says now comes from Redis.
    await sleep(600);
    const refusedAfterMs = await waitFor(
      'the disabled user to be refused on b',
      10_000,
      async () => (await b.request('GET', '/api/v1/auth/me', { token: user })).status === 401,
    );
    figure('disabled during a Redis outage, refused on the other replica after reconnect', {
      refusedAfterMs,
    });
  });
});
