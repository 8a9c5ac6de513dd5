// The operator's promises on real pods, each with its figure printed: a flag change served by every
// running replica within seconds (no restart), the operator's two replicas failing over with a change
// made meanwhile still applied, a Redis change rolling the pods onto a second Redis with no failed
// request through the Ingress, the ExpressApp's deletion handing the release back with no failed
// request, and the HPA it creates scaling out on real CPU (metrics-server) and back in.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1Pod, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyExpressApp, readyExpressApp } from '../../lib/expressapp.js';
import { formatPropagation, untilEveryReplicaServes } from '../../lib/flag-propagation.js';
import { getJson, helmUpgrade, kubectl } from '../../lib/helm.js';
import { load, underSteadyTraffic } from '../../lib/ingress.js';
import { clients, uniqueName } from '../../lib/kube.js';
import { installOperator, type InstalledOperator } from '../../lib/operator.js';
import { OPERATOR_NAMESPACE } from '../../lib/operator-process.js';
import { portForward, type PortForward } from '../../lib/port-forward.js';
import { Release } from '../../lib/release.js';
import { waitFor } from '../../lib/wait.js';
import { copyDependency } from '../../lib/workloads.js';

const { core } = clients();
const namespace = uniqueName('governed-kind');
const release = new Release(namespace, 'orders');
const VALUES = resolve(dirname(fileURLToPath(import.meta.url)), 'governed-values.yaml');
const INGRESS_HOST = 'governed.e2e.localtest.me';
// hack/e2e.sh's Redis, which the chart's values name, and a second one this suite starts.
const REDIS_A = 'redis.express-sqlize.svc.cluster.local';
const REDIS_B = 'redis-b';
const FLAG_CHANGES = 10;
let operator: InstalledOperator;
let forwards: PortForward[] = [];

const applyApp = (spec: object) => applyExpressApp(namespace, release.name, spec);
const fixed = (redisHost: string, featureFlags: Record<string, boolean>) => ({
  replicas: 3,
  redis: { host: redisHost, port: 6379 },
  featureFlags,
});
const podNames = async () => (await release.list<V1Pod>('pods')).map((p) => p.metadata!.name!).sort();
const leaseHolder = async () =>
  (await getJson<{ spec?: { holderIdentity?: string } }>(OPERATOR_NAMESPACE, 'lease', 'expressapp-operator'))
    ?.spec?.holderIdentity || undefined;

async function forwardEveryPod(): Promise<string[]> {
  closeForwards();
  forwards = await Promise.all((await podNames()).map((pod) => portForward(namespace, pod, 3000)));
  return forwards.map((f) => f.url);
}
function closeForwards() {
  for (const f of forwards) f.close();
  forwards = [];
}

/** The addresses of the clients a Redis of this suite's cluster sees (CLIENT LIST, through kubectl exec). */
async function redisClientIps(ns: string, deployment: string): Promise<Set<string>> {
  const list = await kubectl([
    'exec',
    '-n',
    ns,
    `deployment/${deployment}`,
    '--',
    'redis-cli',
    'CLIENT',
    'LIST',
  ]);
  return new Set([...list.matchAll(/\baddr=([\d.]+):\d+/g)].map((m) => m[1]!));
}

beforeAll(async () => {
  operator = await installOperator();
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  // The second Redis: a copy of hack/e2e.sh's.
  await copyDependency('redis', namespace, REDIS_B);
  await helmUpgrade('helm4', release.name, namespace, {}, [VALUES]);
}, 300_000);

afterAll(async () => {
  closeForwards();
  await kubectl(['delete', 'expressapp', release.name, '-n', namespace, '--ignore-not-found']).catch(
    () => '',
  );
  await kubectl(['delete', 'namespace', namespace, '--wait=false']).catch(() => '');
  await operator?.stop();
});

describe('an ExpressApp on real pods', () => {
  it('a flag change is served by every one of 3 running replicas within seconds, with no restart', async () => {
    await applyApp(fixed(REDIS_A, { change0: true }));
    await readyExpressApp(namespace, release.name, 180_000);
    await release.rolledOut(3, 240_000);
    const before = await podNames();
    const urls = await forwardEveryPod();
    const times: number[] = [];
    for (let i = 1; i <= FLAG_CHANGES; i++) {
      const want = { [`change${i}`]: true };
      const since = performance.now();
      await applyApp(fixed(REDIS_A, want));
      times.push(await untilEveryReplicaServes(urls, want, since, 30_000));
    }
    console.log(
      `[kind] ${formatPropagation('flag change to all 3 replicas (goal: max under 2000 ms)', times)}`,
    );
    // Served from the watch, not the kubelet's volume sync (a minute or more).
    expect(Math.max(...times)).toBeLessThan(10_000);
    expect(await podNames()).toEqual(before);
    for (const pod of await release.list<V1Pod>('pods')) {
      expect(pod.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    }
  });

  it("the operator's leader pod deleted: the standby takes the Lease and a change made meanwhile goes live", async () => {
    const urls = forwards.map((f) => f.url);
    expect(urls).toHaveLength(3);
    const leader = await leaseHolder();
    expect(leader).toBeDefined();
    const since = performance.now();
    await kubectl(['delete', 'pod', leader!, '-n', OPERATOR_NAMESPACE, '--wait=false']);
    // The change is made once the deleted leader has let the Lease go (released on SIGTERM, or
    // expired), so only the standby can apply it.
    await waitFor(
      'the deleted leader to let the Lease go',
      60_000,
      async () => ((await leaseHolder()) !== leader ? true : undefined),
      50,
    );
    const released = performance.now() - since;
    const want = { duringFailover: true };
    await applyApp(fixed(REDIS_A, want));
    const ms = await untilEveryReplicaServes(urls, want, since, 60_000);
    const next = await waitFor('another operator pod to hold the Lease', 60_000, async () => {
      const holder = await leaseHolder();
      return holder && holder !== leader ? holder : undefined;
    });
    console.log(
      `[kind] operator failover: leader ${leader} deleted, the Lease let go ${released.toFixed(0)} ms later, ${next} took over; the change made then was live on every replica ${ms.toFixed(0)} ms after the deletion`,
    );
    await kubectl([
      'rollout',
      'status',
      'deployment/expressapp-operator',
      '-n',
      OPERATOR_NAMESPACE,
      '--timeout=120s',
    ]);
  });

  it('a Redis change rolls the pods onto the second Redis; steady traffic through the Ingress fails no request', async () => {
    closeForwards();
    const started = performance.now();
    const traffic = await underSteadyTraffic(INGRESS_HOST, async () => {
      await applyApp(fixed(REDIS_B, { duringFailover: true }));
      await readyExpressApp(namespace, release.name, 240_000);
      await release.rolledOut(3, 240_000);
    });
    const ips = (await release.list<V1Pod>('pods')).map((p) => p.status!.podIP!);
    // Every new pod holds a connection to the second Redis.
    const clientsOfB = await waitFor('every pod to be a client of the second Redis', 30_000, async () => {
      const seen = await redisClientIps(namespace, REDIS_B);
      return ips.every((ip) => seen.has(ip)) ? seen : undefined;
    });
    console.log(
      `[kind] Redis change: 3 pods rolled onto ${REDIS_B} in ${((performance.now() - started) / 1000).toFixed(1)} s; ${traffic.sent} requests through the Ingress, ${traffic.failures.length} failed`,
    );
    expect(ips.every((ip) => clientsOfB.has(ip))).toBe(true);
    expect(traffic.sent).toBeGreaterThan(20);
    expect(traffic.failures).toEqual([]);
  });

  it("deleting the ExpressApp hands the release back to the chart's settings; steady traffic fails no request", async () => {
    const traffic = await underSteadyTraffic(INGRESS_HOST, async () => {
      await kubectl(['delete', 'expressapp', release.name, '-n', namespace, '--timeout=120s']);
      // The chart's replica count (its chart-replicas annotation) and the chart's Redis.
      await release.rolledOut(2, 240_000);
    });
    const d = await release.deployment();
    const env = d.spec?.template.spec?.containers.find((c) => c.name === 'app')?.env ?? [];
    expect(env.filter((e) => e.name.startsWith('REDIS_'))).toEqual([]);
    expect(await getJson(namespace, 'configmap', `${release.name}-flags`)).toBeUndefined();
    const ips = (await release.list<V1Pod>('pods')).map((p) => p.status!.podIP!);
    const clientsOfA = await waitFor("every pod to be a client of the chart's Redis", 30_000, async () => {
      const seen = await redisClientIps('express-sqlize', 'redis');
      return ips.every((ip) => seen.has(ip)) ? seen : undefined;
    });
    console.log(
      `[kind] ExpressApp deleted: back to 2 pods on the chart's Redis; ${traffic.sent} requests through the Ingress, ${traffic.failures.length} failed`,
    );
    expect(ips.every((ip) => clientsOfA.has(ip))).toBe(true);
    expect(traffic.sent).toBeGreaterThan(20);
    expect(traffic.failures).toEqual([]);
  });

  it('spec.autoscaling: the HPA scales out under load through the Ingress and back in when it stops', async () => {
    await applyApp({
      autoscaling: {
        minReplicas: 1,
        maxReplicas: 3,
        targetCPUUtilizationPercentage: 30,
        scaleDownStabilizationWindowSeconds: 15,
      },
    });
    await readyExpressApp(namespace, release.name, 180_000);
    await release.rolledOut(1, 240_000);
    const hpa = () => getJson<V2HorizontalPodAutoscaler>(namespace, 'hpa', release.name);
    const utilisation = async () =>
      (await hpa())?.status?.currentMetrics?.[0]?.resource?.current.averageUtilization;
    // metrics-server has a sample of the pod: the HPA can compute a utilisation at all.
    await waitFor('the HPA to read CPU from metrics-server', 180_000, utilisation);
    expect((await hpa())?.spec?.behavior?.scaleDown?.stabilizationWindowSeconds).toBe(15);

    const replicas = async () => (await release.deployment()).spec?.replicas ?? 0;
    const loadStart = performance.now();
    let loading = true;
    // Bounded: at most 240 s of 8 clients, stopped as soon as the HPA has scaled out.
    const traffic = (async () => {
      let ok = 0;
      while (loading && performance.now() - loadStart < 240_000)
        ok += await load(INGRESS_HOST, '/live', 8, 5_000);
      return ok;
    })();
    let highestUtilisation = 0;
    const peak = await waitFor(
      'the HPA to scale the Deployment out',
      240_000,
      async () => {
        highestUtilisation = Math.max(highestUtilisation, (await utilisation()) ?? 0);
        const n = await replicas();
        return n > 1 ? n : undefined;
      },
      1000,
    ).finally(() => (loading = false));
    const scaledOut = performance.now() - loadStart;
    const served = await traffic;
    const loadEnd = performance.now();
    await waitFor(
      'the HPA to scale the Deployment back in',
      300_000,
      async () => ((await replicas()) === 1 ? true : undefined),
      1000,
    );
    const scaledIn = performance.now() - loadEnd;
    console.log(
      `[kind] HPA: scaled out to ${peak} pods ${(scaledOut / 1000).toFixed(0)} s after the load started (${served} requests served, up to ${highestUtilisation}% CPU of requests), back to 1 pod ${(scaledIn / 1000).toFixed(0)} s after it stopped (scale-down window 15 s)`,
    );
    expect(peak).toBeGreaterThan(1);
  }, 600_000);
});
