// Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection: a candidate
// takes the Lease when its holder has not renewed it for leaseDuration (measured on the local clock
// from when this candidate last saw the record change, so clock skew between nodes does not matter),
// the leader renews every retryPeriod and gives up when it could not renew for renewDeadline.
// Updates carry the resourceVersion, so two candidates can never both win the same round.
import { RESOURCES, ref } from '../api/resources.js';
import { isConflict, isNotFound, type KubeClient, type KubeObject, type ResourceRef } from './kube.js';

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

type Lease = KubeObject & { spec?: LeaseSpec };

const microTime = (d = new Date()) => d.toISOString().replace(/(\.\d{3})Z$/, '$1000Z');

export class LeaderElector {
  private observedRecord = '';
  private observedAt = 0;
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly cfg: LeaderElectionConfig,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  private get ref(): ResourceRef {
    return ref(RESOURCES.leases, this.cfg.namespace, this.cfg.name);
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Resolves once this candidate holds the Lease (or never, if stopped first). */
  async acquire(): Promise<boolean> {
    while (!this.stopped) {
      if (await this.tryAcquireOrRenew()) {
        this.leading = true;
        return true;
      }
      await this.sleep(this.cfg.retryPeriodMs * (1 + Math.random() * 0.2));
    }
    return false;
  }

  /**
   * Keeps renewing; resolves when leadership is lost (renewDeadline passed without a successful renew)
   * or when stopped.
   */
  async renewLoop(): Promise<'lost' | 'stopped'> {
    let lastRenew = Date.now();
    while (!this.stopped) {
      await this.sleep(this.cfg.retryPeriodMs);
      if (this.stopped) break;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = Date.now();
      } else if (Date.now() - lastRenew > this.cfg.renewDeadlineMs) {
        this.leading = false;
        return 'lost';
      }
    }
    return 'stopped';
  }

  /** Stops and, when leading, hands the Lease back so a standby takes over at once. */
  async release(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.client.get<Lease>(this.ref);
      if (lease.spec?.holderIdentity !== this.cfg.identity) return;
      await this.client.replace(this.ref, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime() },
      });
    } catch (err) {
      this.onError(err);
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const durationSeconds = Math.ceil(this.cfg.leaseDurationMs / 1000);
    try {
      let lease: Lease;
      try {
        lease = await this.client.get<Lease>(this.ref);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        await this.client.create(this.ref, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.cfg.name, namespace: this.cfg.namespace },
          spec: {
            holderIdentity: this.cfg.identity,
            leaseDurationSeconds: durationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        });
        this.observe('', Date.now());
        return true;
      }
      const spec = lease.spec ?? {};
      const record = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}`;
      if (record !== this.observedRecord) this.observe(record, Date.now());
      const holder = spec.holderIdentity ?? '';
      const heldByOther = holder !== '' && holder !== this.cfg.identity;
      const theirDurationMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
      if (heldByOther && this.observedAt + theirDurationMs > Date.now()) return false;
      const transitions = (spec.leaseTransitions ?? 0) + (holder === this.cfg.identity ? 0 : 1);
      await this.client.replace(this.ref, {
        ...lease,
        spec: {
          holderIdentity: this.cfg.identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: holder === this.cfg.identity ? spec.acquireTime : microTime(now),
          renewTime: microTime(now),
          leaseTransitions: transitions,
        },
      });
      return true;
    } catch (err) {
      if (!isConflict(err)) this.onError(err);
      return false;
    }
  }

  private observe(record: string, at: number): void {
    this.observedRecord = record;
    this.observedAt = at;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }
}
