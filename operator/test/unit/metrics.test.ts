import { describe, it, expect, afterEach } from '@jest/globals';
import { FakeApiserver } from '../support/fake-apiserver.js';
import { ItemExponentialLimiter } from '../../src/runtime/backoff.js';
import { KubeClient } from '../../src/runtime/kube.js';
import { OperatorMetrics } from '../../src/runtime/metrics.js';
import { runWorkers } from '../../src/runtime/reconcile-loop.js';
import { WorkQueue } from '../../src/runtime/workqueue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const C = 'controller="expressapp"';
const Q = 'name="expressapp",controller="expressapp"';

/** The value of one series in the exposition text (undefined when the series is absent). */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics under controller-runtime and client-go names', () => {
  let api: FakeApiserver | undefined;
  afterEach(async () => api?.stop());

  it('counts reconciles, workers and queue timings as controller-runtime does', async () => {
    const metrics = new OperatorMetrics();
    const q: WorkQueue = new WorkQueue(
      new ItemExponentialLimiter(5, 50),
      metrics.queueMetrics('expressapp', () => q.inFlightSeconds()),
    );
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    let failures = 0;
    const done = runWorkers(
      q,
      2,
      async (key) => {
        if (key === 'slow') await held;
        if (key === 'flaky' && failures++ === 0) throw new Error('conflict');
      },
      { metrics: metrics.reconcileMetrics('expressapp', 2) },
    );
    q.add('slow');
    q.add('flaky');
    await sleep(150);
    const during = await metrics.registry.metrics();
    expect(value(during, `controller_runtime_active_workers{${C}}`)).toBe(1);
    expect(value(during, `controller_runtime_max_concurrent_reconciles{${C}}`)).toBe(2);
    expect(value(during, `workqueue_longest_running_processor_seconds{${Q}}`)).toBeGreaterThan(0.1);
    expect(value(during, `workqueue_unfinished_work_seconds{${Q}}`)).toBeGreaterThan(0.1);

    release();
    await sleep(50);
    q.shutDown();
    await done;
    const after = await metrics.registry.metrics();
    expect(value(after, `controller_runtime_reconcile_total{${C},result="success"}`)).toBe(2);
    expect(value(after, `controller_runtime_reconcile_total{${C},result="error"}`)).toBe(1);
    expect(value(after, `controller_runtime_reconcile_errors_total{${C}}`)).toBe(1);
    expect(value(after, `controller_runtime_reconcile_time_seconds_count{${C}}`)).toBe(3);
    expect(value(after, `controller_runtime_active_workers{${C}}`)).toBe(0);
    expect(value(after, `workqueue_adds_total{${Q}}`)).toBe(3);
    expect(value(after, `workqueue_retries_total{${Q}}`)).toBe(1);
    expect(value(after, `workqueue_depth{${Q}}`)).toBe(0);
    expect(value(after, `workqueue_queue_duration_seconds_count{${Q}}`)).toBe(3);
    expect(value(after, `workqueue_work_duration_seconds_count{${Q}}`)).toBe(3);
    expect(value(after, `workqueue_longest_running_processor_seconds{${Q}}`)).toBe(0);
  });

  it('counts API requests by code and method', async () => {
    api = new FakeApiserver();
    const kc = await api.start();
    const metrics = new OperatorMetrics();
    const client = new KubeClient(kc, {
      response: (method, code, host) => metrics.recordResponse(method, code, host),
    });
    await client.list('/api/v1/configmaps');
    await client.list('/api/v1/configmaps');
    const host = new URL(kc.getCurrentCluster()!.server).host;
    const text = await metrics.registry.metrics();
    expect(value(text, `rest_client_requests_total{code="200",method="GET",host="${host}"}`)).toBe(2);
  });
});
