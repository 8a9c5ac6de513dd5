// Level-triggered reconcile of one ExpressApp: observe once from the informer caches, compare the
// desired state with what is live and write only what differs (a resync of a settled app performs no
// request at all), then write status only when it changed. Errors propagate to the work queue, which
// retries with backoff.
import { inject, injectable } from 'tsyringe';
import { RESOURCES, ref } from '../../api/resources.js';
import { parseSpec, type ExpressApp } from '../../api/v1alpha1/types.js';
import {
  FIELD_MANAGER,
  isNamespaceTerminating,
  isNotFound,
  type KubeApi,
  type KubeObject,
} from '../../runtime/kube.js';
import type { Logger } from '../../runtime/log.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { CacheReaders } from './controller.js';
import {
  CHART_REPLICAS_ANNOTATION,
  FINALIZER,
  deploymentApplyBody,
  desiredState,
  flagsConfigMapName,
  flagsRevision,
  type DesiredState,
} from './desired.js';
import {
  applyEntry,
  deploymentDrift,
  flagsData,
  flagsMatch,
  hpaMatches,
  ownedBy,
  type DeploymentLike,
} from './live.js';
import { observe, type Observed } from './observe.js';
import { computeStatus, sameStatus, type Problem } from './status.js';
import { TOKENS } from '../../tokens.js';

export interface ReconcilerOptions {
  /** How long a deleted ExpressApp waits for a failing restore before its finalizer is dropped anyway. */
  finalizerTimeoutMs: number;
}

/** What the status reports of the Deployment: as last seen (after an apply, as applied). */
interface Outcome {
  deployment: DeploymentLike | undefined;
  redisRevision: string | undefined;
}
const none: Outcome = { deployment: undefined, redisRevision: undefined };

@injectable()
export class ExpressAppReconciler {
  constructor(
    @inject(TOKENS.KubeClient) private readonly client: KubeApi,
    @inject(TOKENS.Caches) private readonly caches: CacheReaders,
    @inject(TOKENS.EventRecorder) private readonly events: EventRecorder,
    @inject(TOKENS.Logger) private readonly log: Logger,
    @inject(TOKENS.ReconcilerOptions) private readonly opts: ReconcilerOptions,
  ) {}

  async reconcile(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    let app = this.caches.apps.get(namespace, name);
    if (!app) return; // gone: garbage collection removes what it owned
    if (app.metadata.deletionTimestamp) return this.finalize(observe(this.caches, app));
    if (!(app.metadata.finalizers ?? []).includes(FINALIZER)) {
      app = await this.client.mergePatch<ExpressApp & KubeObject>(
        ref(RESOURCES.expressApps, namespace, name),
        {
          metadata: {
            finalizers: [...(app.metadata.finalizers ?? []), FINALIZER],
            resourceVersion: app.metadata.resourceVersion,
          },
        },
      );
    }

    const parsed = parseSpec(app.spec);
    if (!parsed.ok) {
      const invalid = observe(this.caches, app);
      await this.writeStatus(invalid, none, {
        reason: 'InvalidSpec',
        message: `${parsed.message}. Fix the spec; nothing is applied until then.`,
      });
      return;
    }
    const obs = observe(this.caches, { ...app, spec: parsed.spec });
    if (!obs.deployment) {
      await this.writeStatus(obs, none, {
        reason: 'TargetNotFound',
        message: `Deployment ${namespace}/${obs.target} does not exist. Install the chart as release "${obs.target}" with expressApp.governed=true, or set spec.target.name to the release's Deployment.`,
      });
      return;
    }

    const desired = desiredState(obs.app, obs.secret, obs.liveRedis);
    const outcome: Outcome = {
      deployment: obs.deployment,
      redisRevision: obs.app.spec.redis ? obs.liveRedis.hash : undefined,
    };
    try {
      const drift = deploymentDrift(obs.deployment, desired.deployment, obs.owned);
      if (drift.length > 0) {
        outcome.deployment = await this.client.apply<DeploymentLike>(
          ref(RESOURCES.deployments, namespace, obs.target),
          deploymentApplyBody(namespace, obs.target, desired.deployment),
        );
        this.events.normal(
          obs.app,
          'DeploymentUpdated',
          `Deployment ${obs.target}: ${summarizeDrift(drift)}`,
        );
      }
      // Applied, or already live: either way the Deployment now carries the desired Redis part.
      if (obs.app.spec.redis) outcome.redisRevision = desired.deployment.redis.hash;
      await this.reconcileHpa(obs, desired);
      await this.reconcileFlags(obs, desired);
    } catch (err) {
      if (isNamespaceTerminating(err)) return; // the ExpressApp goes with its namespace
      const message = err instanceof Error ? err.message : String(err);
      this.events.warning(obs.app, 'ApplyFailed', message);
      await this.writeStatus(obs, outcome, {
        reason: 'ApplyFailed',
        message: `${message} (retrying with backoff)`,
      }).catch(() => {});
      throw err;
    }
    await this.writeStatus(obs, outcome, secretProblem(obs));
  }

  private async reconcileHpa({ app, target, hpa }: Observed, desired: DesiredState): Promise<void> {
    const hpaRef = ref(RESOURCES.horizontalPodAutoscalers, app.metadata.namespace, target);
    if (!desired.hpa) {
      if (hpa && ownedBy(hpa, app)) {
        await this.client.delete(hpaRef, hpa.metadata.uid);
        this.events.normal(
          app,
          'AutoscalerDeleted',
          `HorizontalPodAutoscaler ${target} deleted: spec.autoscaling was removed`,
        );
      }
      return;
    }
    if (hpaMatches(hpa, desired.hpa, app)) return;
    await this.client.apply(hpaRef, desired.hpa);
    const a = app.spec.autoscaling!;
    this.events.normal(
      app,
      'AutoscalerApplied',
      `HorizontalPodAutoscaler ${target}: ${a.minReplicas}-${a.maxReplicas} replicas at ${a.targetCPUUtilizationPercentage}% CPU`,
    );
  }

  private async reconcileFlags({ app, flags }: Observed, desired: DesiredState): Promise<void> {
    if (flagsMatch(flags, desired.flags, app)) return;
    const cmName = desired.flags.metadata.name;
    await this.client.apply(ref(RESOURCES.configMaps, app.metadata.namespace, cmName), desired.flags);
    this.events.normal(
      app,
      'FlagsUpdated',
      `ConfigMap ${cmName}: ${describeFlagChange(flagsData(flags), flagsData(desired.flags)!)}`,
    );
  }

  private async writeStatus(
    { app, target }: Observed,
    { deployment, redisRevision }: Outcome,
    problem: Problem | undefined,
  ): Promise<void> {
    const status = computeStatus({
      app,
      target,
      deployment,
      redisRevision,
      // What was applied (or would be): the ConfigMap in the cache may lag behind the apply just made.
      flagsRevision: flagsRevision(app.spec),
      flagCount: Object.keys(app.spec.featureFlags ?? {}).length,
      problem,
    });
    if (sameStatus(app.status, status)) return;
    const old = app.status ?? {};
    const patch: Record<string, unknown> = { ...status };
    for (const k of Object.keys(old)) if (!(k in patch)) patch[k] = null;
    try {
      await this.client.mergePatch(
        ref(RESOURCES.expressApps, app.metadata.namespace, app.metadata.name, 'status'),
        {
          status: patch,
        },
      );
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const before = app.status?.conditions?.find((c) => c.type === 'Ready');
    const after = status.conditions?.find((c) => c.type === 'Ready');
    if (problem && (before?.reason !== after?.reason || before?.message !== after?.message)) {
      this.events.warning(app, problem.reason, problem.message);
    }
  }

  /**
   * Deletion: put the chart's own replica count back, release every field the operator owned on the
   * Deployment (the pods roll back to the chart's Redis settings), remove the HPA and flags ConfigMap,
   * then drop the finalizer. A terminating namespace, a vanished target or a restore that keeps failing
   * past finalizerTimeoutMs never holds the deletion up.
   */
  private async finalize({ app, target, deployment, hpa, flags }: Observed): Promise<void> {
    if (!(app.metadata.finalizers ?? []).includes(FINALIZER)) return;
    const ns = app.metadata.namespace;
    const namespaceGone = await this.namespaceTerminating(ns);
    const overdue = Date.now() - Date.parse(app.metadata.deletionTimestamp!) > this.opts.finalizerTimeoutMs;
    if (!namespaceGone && deployment) {
      try {
        await this.restoreDeployment(deployment);
        this.events.normal(
          app,
          'Restored',
          `Deployment ${target}: chart settings restored, operator fields released`,
        );
      } catch (err) {
        if (!overdue) throw err;
        this.log.warn('restore failed past the finalizer timeout; removing the finalizer anyway', {
          key: `${ns}/${app.metadata.name}`,
          err,
        });
        this.events.warning(
          app,
          'RestoreAbandoned',
          `Could not restore Deployment ${target} within ${this.opts.finalizerTimeoutMs / 1000}s: ${String(err)}`,
        );
      }
    }
    if (!namespaceGone) {
      if (hpa && ownedBy(hpa, app))
        await this.client.delete(ref(RESOURCES.horizontalPodAutoscalers, ns, target), hpa.metadata.uid);
      if (flags && ownedBy(flags, app))
        await this.client.delete(ref(RESOURCES.configMaps, ns, flagsConfigMapName(app)), flags.metadata.uid);
    }
    try {
      await this.client.mergePatch(ref(RESOURCES.expressApps, ns, app.metadata.name), {
        metadata: {
          finalizers: (app.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
          resourceVersion: app.metadata.resourceVersion,
        },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async namespaceTerminating(ns: string): Promise<boolean> {
    const obj = await this.client.getOrUndefined<KubeObject & { status?: { phase?: string } }>(
      ref(RESOURCES.namespaces, undefined, ns),
    );
    return !obj || obj.status?.phase === 'Terminating' || obj.metadata.deletionTimestamp !== undefined;
  }

  private async restoreDeployment(d: DeploymentLike): Promise<void> {
    const ns = d.metadata.namespace!;
    const name = d.metadata.name;
    if (!applyEntry(d)) return;
    const chart = Number.parseInt(d.metadata.annotations?.[CHART_REPLICAS_ANNOTATION] ?? '', 10);
    const replicas = Number.isFinite(chart) ? chart : d.spec?.replicas;
    // 1. Apply only the replica count: the env entries and the hash annotation leave the apply, so
    //    the apiserver removes them and the pods roll back to the chart's envFrom.
    const applied = await this.client.apply<DeploymentLike>(ref(RESOURCES.deployments, ns, name), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns },
      spec: replicas !== undefined ? { replicas } : {},
    });
    // 2. Drop the operator's managedFields entry: the replica count stays as it is, owned by nobody
    //    (an apply without it would reset it to the default of 1).
    const fields = applied.metadata.managedFields ?? [];
    const i = fields.findIndex(
      (m) => m.manager === FIELD_MANAGER && m.operation === 'Apply' && !m.subresource,
    );
    if (i < 0) return;
    await this.client.jsonPatch(ref(RESOURCES.deployments, ns, name), [
      { op: 'test', path: `/metadata/managedFields/${i}/manager`, value: FIELD_MANAGER },
      { op: 'test', path: `/metadata/managedFields/${i}/operation`, value: 'Apply' },
      { op: 'remove', path: `/metadata/managedFields/${i}` },
    ]);
  }
}

/** Values first; env entries and field ownership follow from the Redis hash, so they are only counted. */
function summarizeDrift(drift: string[]): string {
  const main = drift.filter((d) => !d.startsWith('ownership of') && !d.startsWith('env '));
  const rest = drift.length - main.length;
  return [...main, ...(rest ? [`${rest} env entr${rest === 1 ? 'y' : 'ies'}/field ownership`] : [])].join(
    ', ',
  );
}

function describeFlagChange(before: string | undefined, after: string): string {
  const a = before ? (JSON.parse(before) as Record<string, boolean>) : {};
  const b = JSON.parse(after) as Record<string, boolean>;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(b)) if (a[k] !== v) parts.push(`${k}=${v}`);
  for (const k of Object.keys(a)) if (!(k in b)) parts.push(`-${k}`);
  return parts.length ? parts.join(', ') : 'ownership taken';
}

/** A referenced Secret or key that is missing: the Redis settings are held and the app is Degraded. */
function secretProblem({ app, secret }: Observed): Problem | undefined {
  if (secret.kind !== 'missing' && secret.kind !== 'keyMissing') return undefined;
  const ref = app.spec.redis!.passwordSecretRef!;
  const ns = app.metadata.namespace;
  return secret.kind === 'missing'
    ? {
        reason: 'SecretNotFound',
        message: `Secret ${ns}/${ref.name} named by spec.redis.passwordSecretRef does not exist; the pods keep their current Redis settings until it is created.`,
      }
    : {
        reason: 'SecretKeyNotFound',
        message: `Secret ${ns}/${ref.name} has no key "${ref.key}" (spec.redis.passwordSecretRef.key); the pods keep their current Redis settings until it is added.`,
      };
}
