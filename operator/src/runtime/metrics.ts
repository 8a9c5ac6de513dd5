// Prometheus metrics under controller-runtime's and client-go's names, labels and buckets, so
// dashboards and alerts written for Go operators work unchanged, plus the watch restarts and API
// writes this runtime adds.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, exponentialBuckets } from 'prom-client';
import type { ReconcileMetrics } from './reconcile-loop.js';
import type { QueueMetrics } from './workqueue.js';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly maxConcurrentReconciles = new Gauge({
    name: 'controller_runtime_max_concurrent_reconciles',
    help: 'Maximum number of concurrent reconciles per controller',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue',
    labelNames: ['name', 'controller'] as const,
    registers: [this.registry],
  });
  readonly queueAdds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames: ['name', 'controller'] as const,
    registers: [this.registry],
  });
  readonly queueRetries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames: ['name', 'controller'] as const,
    registers: [this.registry],
  });
  // client-go's workqueue buckets: 10^-8 s to 10^1 s.
  readonly queueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    labelNames: ['name', 'controller'] as const,
    buckets: exponentialBuckets(1e-8, 10, 10),
    registers: [this.registry],
  });
  readonly workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes',
    labelNames: ['name', 'controller'] as const,
    buckets: exponentialBuckets(1e-8, 10, 10),
    registers: [this.registry],
  });
  private readonly inFlight = new Map<string, () => number[]>();
  readonly unfinishedWork = new Gauge({
    name: 'workqueue_unfinished_work_seconds',
    help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads.",
    labelNames: ['name', 'controller'] as const,
    registers: [this.registry],
    collect: () => this.collectInFlight(),
  });
  readonly longestRunning = new Gauge({
    name: 'workqueue_longest_running_processor_seconds',
    help: 'How many seconds has the longest running processor for workqueue been running',
    labelNames: ['name', 'controller'] as const,
    registers: [this.registry],
    collect: () => this.collectInFlight(),
  });
  readonly restRequests = new Counter({
    name: 'rest_client_requests_total',
    help: 'Number of HTTP requests, partitioned by status code, method, and host',
    labelNames: ['code', 'method', 'host'] as const,
    registers: [this.registry],
  });
  readonly watchRestarts = new Counter({
    name: 'expressapp_operator_watch_restarts_total',
    help: 'Watches restarted, by resource and reason (quiet, error, expired, closed)',
    labelNames: ['resource', 'reason'] as const,
    registers: [this.registry],
  });
  readonly apiWrites = new Counter({
    name: 'expressapp_operator_api_writes_total',
    help: 'Write requests sent to the apiserver, by verb and resource',
    labelNames: ['verb', 'resource'] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'leader_election_master_status',
    help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Queue metrics of one controller; `inFlightSeconds` is read at every scrape, as client-go polls it. */
  queueMetrics(controller: string, inFlightSeconds: () => number[]): QueueMetrics {
    const labels = { name: controller, controller };
    this.inFlight.set(controller, inFlightSeconds);
    // Series exist from the start at 0, as controller-runtime does, so rate() and alerts see them.
    this.queueAdds.inc(labels, 0);
    this.queueRetries.inc(labels, 0);
    this.queueDepth.set(labels, 0);
    this.reconcileErrors.inc({ controller }, 0);
    for (const result of ['success', 'error']) this.reconcileTotal.inc({ controller, result }, 0);
    return {
      depth: (n) => this.queueDepth.set(labels, n),
      added: () => this.queueAdds.inc(labels),
      retried: () => this.queueRetries.inc(labels),
      waited: (seconds) => this.queueDuration.observe(labels, seconds),
      worked: (seconds) => this.workDuration.observe(labels, seconds),
    };
  }

  private collectInFlight(): void {
    for (const [controller, read] of this.inFlight) {
      const held = read();
      const labels = { name: controller, controller };
      this.unfinishedWork.set(
        labels,
        held.reduce((a, b) => a + b, 0),
      );
      this.longestRunning.set(labels, held.length > 0 ? Math.max(...held) : 0);
    }
  }

  reconcileMetrics(controller: string, maxConcurrent: number): ReconcileMetrics {
    this.maxConcurrentReconciles.set({ controller }, maxConcurrent);
    this.activeWorkers.set({ controller }, 0);
    return {
      started: () => {
        const end = this.reconcileTime.startTimer({ controller });
        this.activeWorkers.inc({ controller });
        return (result) => {
          end();
          this.activeWorkers.dec({ controller });
          this.reconcileTotal.inc({ controller, result });
          if (result === 'error') this.reconcileErrors.inc({ controller });
        };
      },
    };
  }

  recordResponse(method: string, code: number | undefined, host: string): void {
    this.restRequests.inc({ code: code === undefined ? '<error>' : String(code), method, host });
  }

  /** Resource name from an API path: /apis/apps/v1/namespaces/x/deployments/y/status -> deployments/status. */
  recordWrite(verb: string, path: string): void {
    const parts = path.split('?')[0]!.split('/').filter(Boolean);
    const nsIdx = parts.indexOf('namespaces');
    const rest =
      nsIdx >= 0 && parts.length > nsIdx + 2
        ? parts.slice(nsIdx + 2)
        : parts.slice(parts[0] === 'api' ? 2 : 3);
    const resource = rest[0] ?? 'unknown';
    const sub = rest[2] ? `/${rest[2]}` : '';
    this.apiWrites.inc({ verb, resource: resource + sub });
  }
}
