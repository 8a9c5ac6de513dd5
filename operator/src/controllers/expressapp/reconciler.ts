// Level-triggered reconcile of one ExpressApp: read everything from the informer caches, compare the
// desired state with what is live and write only what differs (a resync of a settled app performs no
// request at all), then write status only when it changed. Errors propagate to the work queue, which
// retries with backoff.
import { inject, injectable } from 'tsyringe';
import {
  API_VERSION,
  KIND,
  parseSpec,
  PLURAL,
  GROUP,
  VERSION,
  type ExpressApp,
} from '../../api/v1alpha1/types.js';
import {
  FIELD_MANAGER,
  isNamespaceTerminating,
  isNotFound,
  type KubeClient,
  type KubeObject,
  type ResourceRef,
} from '../../runtime/kube.js';
import type { Informer } from '../../runtime/informer.js';
import type { Logger } from '../../runtime/log.js';
import type { EventRecorder } from '../../runtime/events.js';
import {
  CHART_REPLICAS_ANNOTATION,
  FINALIZER,
  FLAGS_KEY,
  deploymentApplyBody,
  desiredDeployment,
  flagsConfigMap,
  flagsConfigMapName,
  horizontalPodAutoscaler,
  shortHash,
  targetName,
  usesPassword,
  type SecretState,
} from './desired.js';
import { applyEntry, deploymentDrift, liveRedisPart, type DeploymentLike } from './live.js';
import { computeStatus, sameStatus, type Problem } from './status.js';
import { TOKENS } from '../../tokens.js';

/** A Secret as cached: metadata and a hash per key, never the values. */
export interface SecretSummary extends KubeObject {
  valueHashes: Record<string, string>;
}

export interface Caches {
  apps: Informer<ExpressApp & KubeObject>;
  deployments: Informer<DeploymentLike>;
  secrets: Informer<SecretSummary>;
  hpas: Informer<KubeObject>;
  configMaps: Informer<KubeObject>;
}

export const appRef = (namespace: string, name?: string, subresource?: string): ResourceRef => ({
  group: GROUP,
  version: VERSION,
  plural: PLURAL,
  namespace,
  name,
  subresource,
});
const deploymentRef = (namespace: string, name: string): ResourceRef => ({
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  namespace,
  name,
});
const hpaRef = (namespace: string, name: string): ResourceRef => ({
  group: 'autoscaling',
  version: 'v2',
  plural: 'horizontalpodautoscalers',
  namespace,
  name,
});
const configMapRef = (namespace: string, name: string): ResourceRef => ({
  group: '',
  version: 'v1',
  plural: 'configmaps',
  namespace,
  name,
});

export interface ReconcilerOptions {
  /** How long a deleted ExpressApp waits for a failing restore before its finalizer is dropped anyway. */
  finalizerTimeoutMs: number;
}

@injectable()
export class ExpressAppReconciler {
  constructor(
    @inject(TOKENS.KubeClient) private readonly client: KubeClient,
    @inject(TOKENS.Caches) private readonly caches: Caches,
    @inject(TOKENS.EventRecorder) private readonly events: EventRecorder,
    @inject(TOKENS.Logger) private readonly log: Logger,
    @inject(TOKENS.ReconcilerOptions) private readonly opts: ReconcilerOptions,
  ) {}

  async reconcile(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    let app = this.caches.apps.get(namespace, name);
    if (!app) return; // gone: garbage collection removes what it owned
    if (app.metadata.deletionTimestamp) return this.finalize(app);
    if (!(app.metadata.finalizers ?? []).includes(FINALIZER)) {
      app = await this.client.mergePatch<ExpressApp & KubeObject>(appRef(namespace, name), {
        metadata: {
          finalizers: [...(app.metadata.finalizers ?? []), FINALIZER],
          resourceVersion: app.metadata.resourceVersion,
        },
      });
    }

    const parsed = parseSpec(app.spec);
    const target = targetName(app);
    if (!parsed.ok) {
      await this.writeStatus(app, target, undefined, {
        reason: 'InvalidSpec',
        message: `${parsed.message}. Fix the spec; nothing is applied until then.`,
      });
      return;
    }
    const spec = parsed.spec;
    app = { ...app, spec };
    let deployment = this.caches.deployments.get(namespace, target);
    if (!deployment || deployment.metadata.deletionTimestamp) {
      await this.writeStatus(app, target, undefined, {
        reason: 'TargetNotFound',
        message: `Deployment ${namespace}/${target} does not exist. Install the chart as release "${target}" with expressApp.governed=true, or set spec.target.name to the release's Deployment.`,
      });
      return;
    }

    const secret = this.secretState(app);
    let problem: Problem | undefined;
    if (secret.kind === 'missing' || secret.kind === 'keyMissing') {
      const ref = spec.redis!.passwordSecretRef!;
      problem =
        secret.kind === 'missing'
          ? {
              reason: 'SecretNotFound',
              message: `Secret ${namespace}/${ref.name} named by spec.redis.passwordSecretRef does not exist; the pods keep their current Redis settings until it is created.`,
            }
          : {
              reason: 'SecretKeyNotFound',
              message: `Secret ${namespace}/${ref.name} has no key "${ref.key}" (spec.redis.passwordSecretRef.key); the pods keep their current Redis settings until it is added.`,
            };
    }

    try {
      const desired = desiredDeployment(spec, secret, liveRedisPart(deployment));
      const drift = deploymentDrift(deployment, desired);
      if (drift.length > 0) {
        deployment = await this.client.apply<DeploymentLike>(
          deploymentRef(namespace, target),
          deploymentApplyBody(namespace, target, desired),
        );
        this.events.normal(app, 'DeploymentUpdated', `Deployment ${target}: ${summarizeDrift(drift)}`);
      }
      await this.reconcileHpa(app, target);
      await this.reconcileFlags(app);
    } catch (err) {
      if (isNamespaceTerminating(err)) return; // the ExpressApp goes with its namespace
      const message = err instanceof Error ? err.message : String(err);
      this.events.warning(app, 'ApplyFailed', message);
      await this.writeStatus(app, target, deployment, {
        reason: 'ApplyFailed',
        message: `${message} (retrying with backoff)`,
      }).catch(() => {});
      throw err;
    }
    await this.writeStatus(app, target, deployment, problem);
  }

  private secretState(app: ExpressApp): SecretState {
    if (!usesPassword(app.spec)) return { kind: 'none' };
    const ref = app.spec.redis?.passwordSecretRef;
    if (!ref) return { kind: 'missing' };
    const s = this.caches.secrets.get(app.metadata.namespace, ref.name);
    if (!s) return { kind: 'missing' };
    const valueHash = s.valueHashes[ref.key];
    return valueHash === undefined ? { kind: 'keyMissing' } : { kind: 'present', valueHash };
  }

  private async reconcileHpa(app: ExpressApp, target: string): Promise<void> {
    const ns = app.metadata.namespace;
    const desired = horizontalPodAutoscaler(app);
    const live = this.caches.hpas.get(ns, target);
    if (!desired) {
      if (live && ownedBy(live, app)) {
        await this.client.delete(hpaRef(ns, target), live.metadata.uid);
        this.events.normal(
          app,
          'AutoscalerDeleted',
          `HorizontalPodAutoscaler ${target} deleted: spec.autoscaling was removed`,
        );
      }
      return;
    }
    const want = desired.spec as Record<string, unknown>;
    const have = live?.spec as Record<string, unknown> | undefined;
    const same =
      live &&
      ownedBy(live, app) &&
      have?.minReplicas === want.minReplicas &&
      have?.maxReplicas === want.maxReplicas &&
      JSON.stringify(have?.metrics) === JSON.stringify(want.metrics) &&
      (have?.scaleTargetRef as { name?: string } | undefined)?.name === target;
    if (same) return;
    await this.client.apply(hpaRef(ns, target), desired);
    const a = app.spec.autoscaling!;
    this.events.normal(
      app,
      'AutoscalerApplied',
      `HorizontalPodAutoscaler ${target}: ${a.minReplicas}-${a.maxReplicas} replicas at ${a.targetCPUUtilizationPercentage}% CPU`,
    );
  }

  private async reconcileFlags(app: ExpressApp): Promise<void> {
    const ns = app.metadata.namespace;
    const desired = flagsConfigMap(app);
    const cmName = flagsConfigMapName(app);
    const live = this.caches.configMaps.get(ns, cmName);
    const want = (desired.data as Record<string, string>)[FLAGS_KEY];
    const have = (live?.data as Record<string, string> | undefined)?.[FLAGS_KEY];
    if (live && ownedBy(live, app) && have === want) return;
    await this.client.apply(configMapRef(ns, cmName), desired);
    this.events.normal(app, 'FlagsUpdated', `ConfigMap ${cmName}: ${describeFlagChange(have, want!)}`);
  }

  private async writeStatus(
    app: ExpressApp,
    target: string,
    deployment: DeploymentLike | undefined,
    problem: Problem | undefined,
  ): Promise<void> {
    const status = computeStatus({
      app,
      target,
      deployment,
      redisRevision: app.spec.redis && deployment ? liveRedisPart(deployment).hash : undefined,
      // What was applied (or would be): the ConfigMap in the cache may lag behind the apply just made.
      flagsRevision: shortHash((flagsConfigMap(app).data as Record<string, string>)[FLAGS_KEY]!).slice(0, 12),
      flagCount: Object.keys(app.spec.featureFlags ?? {}).length,
      problem,
    });
    if (sameStatus(app.status, status)) return;
    const old = app.status ?? {};
    const patch: Record<string, unknown> = { ...status };
    for (const k of Object.keys(old)) if (!(k in patch)) patch[k] = null;
    try {
      await this.client.mergePatch(appRef(app.metadata.namespace, app.metadata.name, 'status'), {
        status: patch,
      });
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
  private async finalize(app: ExpressApp & KubeObject): Promise<void> {
    if (!(app.metadata.finalizers ?? []).includes(FINALIZER)) return;
    const ns = app.metadata.namespace;
    const target = targetName(app);
    const namespaceGone = await this.namespaceTerminating(ns);
    const deployment = this.caches.deployments.get(ns, target);
    const overdue = Date.now() - Date.parse(app.metadata.deletionTimestamp!) > this.opts.finalizerTimeoutMs;
    if (!namespaceGone && deployment && !deployment.metadata.deletionTimestamp) {
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
      const hpa = this.caches.hpas.get(ns, target);
      if (hpa && ownedBy(hpa, app)) await this.client.delete(hpaRef(ns, target), hpa.metadata.uid);
      const cm = this.caches.configMaps.get(ns, flagsConfigMapName(app));
      if (cm && ownedBy(cm, app))
        await this.client.delete(configMapRef(ns, flagsConfigMapName(app)), cm.metadata.uid);
    }
    try {
      await this.client.mergePatch(appRef(ns, app.metadata.name), {
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
    const obj = await this.client.getOrUndefined<KubeObject & { status?: { phase?: string } }>({
      group: '',
      version: 'v1',
      plural: 'namespaces',
      name: ns,
    });
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
    const applied = await this.client.apply<DeploymentLike>(deploymentRef(ns, name), {
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
    await this.client.jsonPatch(deploymentRef(ns, name), [
      { op: 'test', path: `/metadata/managedFields/${i}/manager`, value: FIELD_MANAGER },
      { op: 'test', path: `/metadata/managedFields/${i}/operation`, value: 'Apply' },
      { op: 'remove', path: `/metadata/managedFields/${i}` },
    ]);
  }
}

function ownedBy(obj: KubeObject, app: ExpressApp): boolean {
  return (obj.metadata.ownerReferences ?? []).some(
    (r) => r.uid === app.metadata.uid && r.kind === KIND && r.apiVersion === API_VERSION,
  );
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
