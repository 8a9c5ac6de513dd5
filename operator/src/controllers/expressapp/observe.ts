// One observation per reconcile: the ExpressApp and everything it governs, read once from the caches
// (the target Deployment with the operator's field ownership, the referenced Secret, the owned HPA and
// flags ConfigMap). Drift, apply and status all decide from this one reading.
import type { ExpressApp } from '../../api/v1alpha1/types.js';
import type { KubeObject } from '../../runtime/kube.js';
import type { CacheReaders } from './controller.js';
import { flagsConfigMapName, targetName, usesPassword, type RedisPart, type SecretState } from './desired.js';
import { liveRedisPart, ownership, type DeploymentLike, type Ownership } from './live.js';

export interface Observed {
  app: ExpressApp & KubeObject;
  target: string;
  /** The target Deployment; undefined when it does not exist or is being deleted. */
  deployment: DeploymentLike | undefined;
  /** What the operator's apply entry owns on the Deployment (nothing when there is no Deployment). */
  owned: Ownership;
  /** The Redis part as it is live: held steady while a referenced Secret is missing. */
  liveRedis: RedisPart;
  secret: SecretState;
  hpa: KubeObject | undefined;
  flags: KubeObject | undefined;
}

const NOTHING_OWNED: Ownership = { replicas: false, annotation: false, env: new Set() };

export function observe(caches: CacheReaders, app: ExpressApp & KubeObject): Observed {
  const ns = app.metadata.namespace;
  const target = targetName(app);
  const found = caches.deployments.get(ns, target);
  const deployment = found && !found.metadata.deletionTimestamp ? found : undefined;
  const owned = deployment ? ownership(deployment) : NOTHING_OWNED;
  return {
    app,
    target,
    deployment,
    owned,
    liveRedis: deployment ? liveRedisPart(deployment, owned) : { env: [], hash: undefined },
    secret: secretState(caches, app),
    hpa: caches.hpas.get(ns, target),
    flags: caches.configMaps.get(ns, flagsConfigMapName(app)),
  };
}

function secretState(caches: CacheReaders, app: ExpressApp): SecretState {
  if (!usesPassword(app.spec)) return { kind: 'none' };
  const ref = app.spec.redis?.passwordSecretRef;
  if (!ref) return { kind: 'missing' };
  const s = caches.secrets.get(app.metadata.namespace, ref.name);
  if (!s) return { kind: 'missing' };
  const valueHash = s.valueHashes[ref.key];
  return valueHash === undefined ? { kind: 'keyMissing' } : { kind: 'present', valueHash };
}
