// The worker side of a controller, after controller-runtime's processNextWorkItem/reconcileHandler:
// each worker takes a key, reconciles it, and settles it with the queue in one place: success forgets
// the key's failures, an error requeues it with backoff. The reconcile metrics are taken here too, so
// every outcome is counted exactly once.
import type { WorkQueue } from './workqueue.js';

export type ReconcileResult = 'success' | 'error';

/** Reconcile metrics of one controller; the callback returned by `started` ends the measurement. */
export interface ReconcileMetrics {
  started(): (result: ReconcileResult) => void;
}

const noMetrics: ReconcileMetrics = { started: () => () => {} };

export interface WorkerOptions {
  metrics?: ReconcileMetrics;
  onError?: (key: string, err: unknown) => void;
}

async function reconcileHandler(
  queue: WorkQueue,
  key: string,
  reconcile: (key: string) => Promise<void>,
  { metrics = noMetrics, onError = () => {} }: WorkerOptions,
): Promise<void> {
  const finished = metrics.started();
  try {
    await reconcile(key);
    queue.forget(key);
    finished('success');
  } catch (err) {
    finished('error');
    onError(key, err);
    queue.addRateLimited(key);
  } finally {
    queue.done(key);
  }
}

/** Runs `workers` loops over the queue; resolves when the queue is shut down and every loop ended. */
export async function runWorkers(
  queue: WorkQueue,
  workers: number,
  reconcile: (key: string) => Promise<void>,
  opts: WorkerOptions = {},
): Promise<void> {
  const loop = async (): Promise<void> => {
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      await reconcileHandler(queue, key, reconcile, opts);
    }
  };
  await Promise.all(Array.from({ length: workers }, loop));
}
