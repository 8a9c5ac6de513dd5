// Runs the controller: caches on every replica (a standby takes over with a warm cache), workers only
// on the leader. Losing the Lease ends the process, as controller-runtime does, so two replicas can
// never reconcile at once; a restart brings it back as a standby.
import { inject, injectable } from 'tsyringe';
import type { OperatorConfig } from './config.js';
import type { ExpressAppReconciler } from './controllers/expressapp/reconciler.js';
import {
  registerHandlers,
  startCaches,
  stopCaches,
  type Caches,
} from './controllers/expressapp/controller.js';
import { objectKey } from './runtime/informer.js';
import type { KubeClient } from './runtime/kube.js';
import { LeaderElector } from './runtime/leader.js';
import type { Logger } from './runtime/log.js';
import type { OperatorMetrics } from './runtime/metrics.js';
import { runWorkers } from './runtime/reconcile-loop.js';
import { WorkQueue } from './runtime/workqueue.js';
import { defaultControllerRateLimiter } from './runtime/backoff.js';
import { TOKENS } from './tokens.js';

export const CONTROLLER = 'expressapp';

@injectable()
export class Manager {
  readonly queue: WorkQueue;
  private elector: LeaderElector | undefined;
  private workers: Promise<void> | undefined;
  private resync: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    @inject(TOKENS.Config) private readonly cfg: OperatorConfig,
    @inject(TOKENS.KubeClient) private readonly client: KubeClient,
    @inject(TOKENS.Caches) private readonly caches: Caches,
    @inject(TOKENS.Reconciler) private readonly reconciler: ExpressAppReconciler,
    @inject(TOKENS.Metrics) private readonly metrics: OperatorMetrics,
    @inject(TOKENS.Logger) private readonly log: Logger,
  ) {
    this.queue = new WorkQueue(
      defaultControllerRateLimiter(),
      metrics.queueMetrics(CONTROLLER, () => this.queue.inFlightSeconds()),
    );
    registerHandlers(caches, this.queue);
  }

  ready(): boolean {
    return Object.values(this.caches).every((c: { hasSynced(): boolean }) => c.hasSynced());
  }

  /** Runs until the process is told to stop; returns 'lost' when the Lease was lost. */
  async run(): Promise<'lost' | 'stopped'> {
    await startCaches(this.caches);
    this.log.info('caches synced', { expressapps: this.caches.apps.list().length });
    if (this.cfg.LEADER_ELECT) {
      this.elector = new LeaderElector(
        this.client,
        {
          namespace: this.cfg.leaseNamespace,
          name: this.cfg.LEADER_ELECTION_ID,
          identity: this.cfg.identity,
          leaseDurationMs: this.cfg.LEASE_DURATION_SECONDS * 1000,
          renewDeadlineMs: this.cfg.RENEW_DEADLINE_SECONDS * 1000,
          retryPeriodMs: this.cfg.RETRY_PERIOD_SECONDS * 1000,
        },
        (err) => this.log.warn('leader election', { err }),
      );
      this.log.info('waiting for leadership', {
        lease: `${this.cfg.leaseNamespace}/${this.cfg.LEADER_ELECTION_ID}`,
        identity: this.cfg.identity,
      });
      if (!(await this.elector.acquire())) return 'stopped';
      this.log.info('became leader', { identity: this.cfg.identity });
    }
    this.metrics.leader.set({ name: this.cfg.LEADER_ELECTION_ID }, 1);
    this.enqueueAll();
    if (this.cfg.RESYNC_SECONDS > 0) {
      this.resync = setInterval(() => this.enqueueAll(), this.cfg.RESYNC_SECONDS * 1000);
    }
    this.workers = runWorkers(this.queue, this.cfg.WORKERS, (key) => this.reconciler.reconcile(key), {
      metrics: this.metrics.reconcileMetrics(CONTROLLER, this.cfg.WORKERS),
      onError: (key, err) =>
        this.log.warn('reconcile failed; retrying with backoff', {
          key,
          err,
          retries: this.queue.numRequeues(key),
        }),
    });
    if (!this.elector) {
      await this.workers;
      return 'stopped';
    }
    const outcome = await this.elector.renewLoop();
    if (outcome === 'lost') {
      this.metrics.leader.set({ name: this.cfg.LEADER_ELECTION_ID }, 0);
      this.log.error('leader election lost');
    }
    return outcome;
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.resync) clearInterval(this.resync);
    this.queue.shutDown();
    // Let in-flight reconciles finish (bounded), then hand the Lease over at once.
    await Promise.race([this.workers, new Promise((r) => setTimeout(r, 10_000).unref())]);
    await this.elector?.release();
    await stopCaches(this.caches);
  }

  private enqueueAll(): void {
    for (const app of this.caches.apps.list()) this.queue.add(objectKey(app));
  }
}
