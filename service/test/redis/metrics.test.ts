// The distributed metrics of a replica on Redis, as Prometheus scrapes them: the Redis-only series
// (domain stream lengths) once events were relayed, and a scrape that still answers, without them,
// while Redis is stopped.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestService } from '../support/harness.js';
import { redisCtl, startTwoReplicas, testPrefix, waitFor, type Replicas } from './support.js';

const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('distributed metrics on Redis', () => {
  let a: TestService;
  let b: TestService;
  let replicas: Replicas | undefined;

  beforeAll(async () => {
    replicas = await startTwoReplicas(testPrefix('metrics'), { OUTBOX_RELAY_INTERVAL_MS: '100' });
    ({ a, b } = replicas);
    await a.asAdmin();
  });
  afterAll(async () => {
    redisCtl('start');
    await replicas?.stop();
  });

  const scrape = async (s: TestService = a) => {
    const res = await fetch(`${s.baseUrl}/metrics`);
    return { status: res.status, text: await res.text() };
  };

  it('counts the relayed events on the domain stream, and nothing waits in the outbox', async () => {
    const created = await a.request('POST', '/api/v1/users', {
      body: { email: 'metrics@example.com', name: 'Mia', password: 'Correct-Horse-9' },
    });
    expect(created.status).toBe(201);
    // The relay marks the row relayed after the stream took it: both are awaited.
    await waitFor('the event relayed to the stream and the outbox emptied', 10_000, async () => {
      const { text } = await scrape();
      return (
        (sample(text, 'esp_event_stream_length{stream="users"}') ?? 0) >= 1 &&
        sample(text, 'esp_outbox_pending') === 0
      );
    });
    const { status, text } = await scrape();
    expect(status).toBe(200);
    expect(sample(text, 'esp_outbox_pending')).toBe(0);
    expect(sample(text, 'esp_outbox_lag_seconds')).toBe(0);
    expect(sample(text, 'esp_event_stream_length{stream="users:dead"}')).toBe(0);
    // Either replica's relay may have moved the row (they share the outbox, SKIP LOCKED).
    const published = [text, (await scrape(b)).text].map((t) => sample(t, 'esp_events_published_total') ?? 0);
    expect(published[0]! + published[1]!).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^esp_circuit_breaker_state\{breaker="[^"]+",state="closed"\} 1$/m);
  });

  it('with Redis stopped the scrape still answers, without the stream lengths it cannot read', async () => {
    redisCtl('stop');
    const { status, text } = await scrape();
    expect(status).toBe(200);
    expect(sample(text, 'esp_event_stream_length{stream="users"}')).toBeUndefined();
    expect(sample(text, 'esp_outbox_pending')).toBe(0);
    redisCtl('start');
  });
});
