import { describe, it, expect } from '@jest/globals';
import { parseSpec, type ExpressApp } from '../../src/api/v1alpha1/types.js';
import {
  deploymentApplyBody,
  desiredDeployment,
  flagsConfigMap,
  horizontalPodAutoscaler,
  redisConfigHash,
  type SecretState,
} from '../../src/controllers/expressapp/desired.js';
import {
  deploymentDrift,
  hpaMatches,
  ownership,
  type DeploymentLike,
} from '../../src/controllers/expressapp/live.js';
import { computeStatus, sameStatus } from '../../src/controllers/expressapp/status.js';
import { slimDeployment, summarizeSecret } from '../../src/controllers/expressapp/controller.js';

const spec = (raw: unknown) => {
  const r = parseSpec(raw);
  if (!r.ok) throw new Error(r.message);
  return r.spec;
};
const app = (raw: unknown, extra: Partial<ExpressApp['metadata']> = {}): ExpressApp => ({
  apiVersion: 'platform.sqlize.dev/v1alpha1',
  kind: 'ExpressApp',
  metadata: { name: 'orders', namespace: 'shop', uid: 'u-1', generation: 4, ...extra },
  spec: spec(raw),
});
const present = (valueHash: string): SecretState => ({ kind: 'present', valueHash });
const redis = { host: 'redis', authEnabled: true, passwordSecretRef: { name: 'auth' } };

/** A Deployment as the apiserver returns it after the operator applied `body`. */
function liveAfterApply(
  body: Record<string, unknown>,
  status: DeploymentLike['status'] = {},
): DeploymentLike {
  const spec = body.spec as DeploymentLike['spec'] & Record<string, unknown>;
  const fields: Record<string, unknown> = { 'f:spec': {} };
  const fs = fields['f:spec'] as Record<string, unknown>;
  if (spec?.replicas !== undefined) fs['f:replicas'] = {};
  const t = spec?.template;
  if (t) {
    const env = Object.fromEntries(
      (t.spec?.containers?.[0]?.env ?? []).map((e) => [`k:${JSON.stringify({ name: e.name })}`, {}]),
    );
    fs['f:template'] = {
      'f:metadata': {
        'f:annotations': t.metadata?.annotations ? { 'f:platform.sqlize.dev/redis-config-hash': {} } : {},
      },
      'f:spec': { 'f:containers': { 'k:{"name":"app"}': { 'f:env': env } } },
    };
  }
  return {
    metadata: {
      name: 'orders',
      namespace: 'shop',
      generation: 2,
      managedFields: [{ manager: 'expressapp-operator', operation: 'Apply', fieldsV1: fields }],
    },
    spec: { ...spec, selector: { matchLabels: { app: 'orders' } } },
    status: { observedGeneration: 2, ...status },
  };
}

describe('desired state', () => {
  it('applies only the operator-owned fields of the Deployment', () => {
    const d = desiredDeployment(spec({ replicas: 3, redis }), present('h1'), { env: [], hash: undefined });
    const body = deploymentApplyBody('shop', 'orders', d);
    expect(body).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'orders', namespace: 'shop' },
      spec: {
        replicas: 3,
        template: {
          metadata: { annotations: { 'platform.sqlize.dev/redis-config-hash': d.redis.hash } },
          spec: {
            containers: [
              {
                name: 'app',
                env: [
                  { name: 'REDIS_HOST', value: 'redis' },
                  { name: 'REDIS_PORT', value: '6379' },
                  { name: 'REDIS_DB', value: '0' },
                  { name: 'REDIS_TLS', value: 'false' },
                  { name: 'REDIS_KEY_PREFIX', value: '' },
                  { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'auth', key: 'password' } } },
                ],
              },
            ],
          },
        },
      },
    });
  });

  it('changes the Redis hash with any setting and with the Secret value, not otherwise', () => {
    const base = redisConfigHash(spec({ replicas: 1, redis }), present('a'));
    expect(redisConfigHash(spec({ replicas: 1, redis }), present('a'))).toBe(base);
    expect(redisConfigHash(spec({ replicas: 1, redis }), present('b'))).not.toBe(base);
    expect(redisConfigHash(spec({ replicas: 1, redis: { ...redis, db: 1 } }), present('a'))).not.toBe(base);
    expect(redisConfigHash(spec({ replicas: 9, redis, featureFlags: { x: true } }), present('a'))).toBe(base);
  });

  it('holds the live Redis settings while the Secret is missing', () => {
    const live = { env: [{ name: 'REDIS_HOST', value: 'old' }], hash: 'oldhash' };
    expect(desiredDeployment(spec({ replicas: 1, redis }), { kind: 'missing' }, live).redis).toBe(live);
    expect(desiredDeployment(spec({ replicas: 1, redis }), { kind: 'keyMissing' }, live).redis).toBe(live);
  });

  it('owns the HPA and the flags ConfigMap through an ownerReference', () => {
    const a = app({ autoscaling: { maxReplicas: 5 }, featureFlags: { zeta: true, alpha: false } });
    expect(horizontalPodAutoscaler(a)?.spec).toMatchObject({
      minReplicas: 1,
      maxReplicas: 5,
      scaleTargetRef: { name: 'orders' },
    });
    // Kubernetes' scale-down window applies unless the spec sets one.
    expect(horizontalPodAutoscaler(a)?.spec).not.toHaveProperty('behavior');
    const quick = app({ autoscaling: { maxReplicas: 5, scaleDownStabilizationWindowSeconds: 15 } });
    expect(horizontalPodAutoscaler(quick)?.spec).toMatchObject({
      behavior: { scaleDown: { stabilizationWindowSeconds: 15 } },
    });
    const cm = flagsConfigMap(a);
    expect(cm.metadata.name).toBe('orders-flags');
    expect(cm.data).toEqual({ 'flags.json': '{"alpha":false,"zeta":true}' });
    expect(cm.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'ExpressApp',
      uid: 'u-1',
      controller: true,
    });
    expect(horizontalPodAutoscaler(app({ replicas: 2 }))).toBeUndefined();
    expect(horizontalPodAutoscaler(app({ replicas: 2, target: { name: 'web' } }))).toBeUndefined();
    expect(flagsConfigMap(app({ replicas: 2, target: { name: 'web' } })).metadata.name).toBe('web-flags');
  });
});

describe('drift (decides whether anything is written)', () => {
  it("compares the HPA's scale-down window, reading the apiserver's default of 300 s as unset", () => {
    const quick = app({ autoscaling: { maxReplicas: 5, scaleDownStabilizationWindowSeconds: 15 } });
    const plain = app({ autoscaling: { maxReplicas: 5 } });
    const live = (a: ExpressApp, windowSeconds?: number) => {
      const hpa = horizontalPodAutoscaler(a)!;
      const behavior =
        windowSeconds === undefined
          ? {}
          : { behavior: { scaleDown: { stabilizationWindowSeconds: windowSeconds } } };
      return { ...hpa, spec: { ...(hpa.spec as object), ...behavior } };
    };
    expect(hpaMatches(live(quick, 15), horizontalPodAutoscaler(quick)!, quick)).toBe(true);
    expect(hpaMatches(live(quick, 300), horizontalPodAutoscaler(quick)!, quick)).toBe(false);
    // The window dropped from the spec: the defaulted 300 left behind is what was asked for.
    expect(hpaMatches(live(plain, 300), horizontalPodAutoscaler(plain)!, plain)).toBe(true);
    expect(hpaMatches(live(plain, 15), horizontalPodAutoscaler(plain)!, plain)).toBe(false);
  });

  const s = spec({ replicas: 3, redis });
  const d = desiredDeployment(s, present('h'), { env: [], hash: undefined });
  const live = liveAfterApply(deploymentApplyBody('shop', 'orders', d));

  it('is empty right after the apply: a resync writes nothing', () => {
    expect(ownership(live)).toEqual({
      replicas: true,
      annotation: true,
      env: new Set(d.redis.env.map((e) => e.name)),
    });
    expect(deploymentDrift(live, d)).toEqual([]);
  });

  it('sees a value changed by someone else', () => {
    expect(deploymentDrift({ ...live, spec: { ...live.spec, replicas: 1 } }, d)).toEqual(['replicas 1 -> 3']);
  });

  it('sees fields to release when the spec stops asking for them', () => {
    const autoscaled = desiredDeployment(spec({ autoscaling: { maxReplicas: 4 }, redis }), present('h'), {
      env: [],
      hash: undefined,
    });
    expect(deploymentDrift(live, autoscaled)).toEqual(['ownership of replicas']);
    const noRedis = desiredDeployment(spec({ replicas: 3 }), { kind: 'none' }, { env: [], hash: undefined });
    expect(deploymentDrift(live, noRedis)).toEqual(
      expect.arrayContaining([
        'ownership of redis-config-hash',
        'release env REDIS_HOST',
        'release env REDIS_PASSWORD',
      ]),
    );
  });
});

describe('status', () => {
  const a = app({ replicas: 3, featureFlags: { a: true } });
  const deployment = (status: DeploymentLike['status']) => liveAfterApply({ spec: { replicas: 3 } }, status);

  it('is Ready when every pod runs the current template and is available', () => {
    const st = computeStatus(
      {
        app: a,
        target: 'orders',
        deployment: deployment({ replicas: 3, updatedReplicas: 3, availableReplicas: 3, readyReplicas: 3 }),
        redisRevision: undefined,
        flagsRevision: 'f1',
        flagCount: 1,
        problem: undefined,
      },
      new Date('2026-01-01T00:00:00Z'),
    );
    expect(st).toMatchObject({
      observedGeneration: 4,
      replicas: 3,
      availableReplicas: 3,
      flagCount: 1,
      selector: 'app=orders',
    });
    expect(st.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'Reconciled'],
      ['Progressing', 'False', 'Complete'],
      ['Degraded', 'False', 'AsExpected'],
    ]);
  });

  it('is Progressing during a rollout and says how far it got', () => {
    const st = computeStatus({
      app: a,
      target: 'orders',
      deployment: deployment({ replicas: 4, updatedReplicas: 1, availableReplicas: 3 }),
      redisRevision: 'r',
      flagsRevision: 'f',
      flagCount: 1,
      problem: undefined,
    });
    const ready = st.conditions!.find((c) => c.type === 'Ready')!;
    expect([ready.status, ready.reason]).toEqual(['False', 'RollingOut']);
    expect(ready.message).toContain('1 of 3 pods run the current template');
  });

  it('is Degraded with the problem and what to do', () => {
    const st = computeStatus({
      app: a,
      target: 'orders',
      deployment: undefined,
      redisRevision: undefined,
      flagsRevision: 'f',
      flagCount: 1,
      problem: {
        reason: 'TargetNotFound',
        message: 'Deployment shop/orders does not exist. Install the chart.',
      },
    });
    expect(st.conditions!.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'TargetNotFound',
    });
  });

  it('keeps lastTransitionTime while a condition keeps its status, so an unchanged status is not rewritten', () => {
    const obs = {
      app: a,
      target: 'orders',
      deployment: deployment({ replicas: 3, updatedReplicas: 3, availableReplicas: 3 }),
      redisRevision: undefined,
      flagsRevision: 'f',
      flagCount: 1,
      problem: undefined,
    };
    const first = computeStatus(obs, new Date('2026-01-01T00:00:00Z'));
    const again = computeStatus({ ...obs, app: { ...a, status: first } }, new Date('2026-01-02T00:00:00Z'));
    expect(sameStatus(first, again)).toBe(true);
    const changed = computeStatus(
      { ...obs, app: { ...a, status: first }, flagCount: 2 },
      new Date('2026-01-02T00:00:00Z'),
    );
    expect(sameStatus(first, changed)).toBe(false);
  });
});

describe('cache transforms', () => {
  it('keeps only the operator managedFields entry and drops last-applied from cached Deployments', () => {
    const slim = slimDeployment({
      metadata: {
        name: 'orders',
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{...}',
          'platform.sqlize.dev/chart-replicas': '2',
        },
        managedFields: [
          { manager: 'helm', operation: 'Apply', fieldsV1: {} },
          {
            manager: 'expressapp-operator',
            operation: 'Apply',
            fieldsV1: { 'f:spec': { 'f:replicas': {} } },
          },
        ],
      },
      spec: { replicas: 3 },
    });
    expect(slim.metadata.annotations).toEqual({ 'platform.sqlize.dev/chart-replicas': '2' });
    expect(slim.metadata.managedFields?.map((m) => m.manager)).toEqual(['expressapp-operator']);
    expect(ownership(slim).replicas).toBe(true);
  });

  it('caches a hash per Secret key, never the value', () => {
    const s = summarizeSecret({
      metadata: { name: 'auth', namespace: 'shop' },
      data: { password: 'c2VjcmV0' },
    });
    expect(JSON.stringify(s)).not.toContain('c2VjcmV0');
    expect(Object.keys(s.valueHashes)).toEqual(['password']);
    expect(
      summarizeSecret({ metadata: { name: 'auth' }, data: { password: 'b3RoZXI=' } }).valueHashes.password,
    ).not.toBe(s.valueHashes.password);
  });
});
