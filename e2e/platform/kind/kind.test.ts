// What only a cluster with real pods can show, run by `make e2e E2E_CLUSTER=kind` (jest.config.js
// leaves this folder out on any other cluster and platform/not-run.js lists these tests as not run):
// the service's image really starts and passes its probes, `helm test`, requests through the
// Ingress (also during a rollout, where the preStop delay must keep every one of them served), the
// NetworkPolicy enforced, and the operator running as the Deployment of manifests/.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyObject, getJson, helm, helmUpgrade, kubectl } from '../../lib/helm.js';
import { ingressGet as get, underSteadyTraffic } from '../../lib/ingress.js';
import { clients, uniqueName } from '../../lib/kube.js';
import { installOperator, type InstalledOperator } from '../../lib/operator.js';
import { OPERATOR_NAMESPACE } from '../../lib/operator-process.js';
import { Release } from '../../lib/release.js';
import { waitFor } from '../../lib/wait.js';

const { core } = clients();
const namespace = uniqueName('platform-kind');
const release = new Release(namespace, 'shop');
const VALUES = resolve(dirname(fileURLToPath(import.meta.url)), 'values.yaml');
const INGRESS_HOST = 'express-sqlize.e2e.localtest.me';
let operator: InstalledOperator;
const ingressGet = (path: string) => get(INGRESS_HOST, path);

/**
 * Runs a pod with the service's image (it has node) that GETs /live from `ip`:3000 and exits 0 when
 * the outcome is `expect`: "open" (200) or "blocked" (dropped or rejected, as a policy does). Any
 * other outcome (DNS, another status) exits 2, so a broken probe never passes. Expecting "open", it
 * tries for up to 30 s: the enforcer adds a new pod's address to the policy's allowed peers only
 * once it has seen the pod. Expecting "blocked", one try: a later one could only hide a leak.
 */
async function probe(ns: string, name: string, labels: Record<string, string>, ip: string, expect: string) {
  const script = `
    const url = 'http://${ip}:3000/live';
    const attempt = async () => {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
        return res.status === 200 ? 'open' : 'status ' + res.status;
      } catch (error) {
        // A policy drops (a timeout) or rejects (refused, unreachable); the positive control shows the port is open.
        const code = error.cause?.code;
        const denied = error.name === 'TimeoutError' || code === 'ECONNREFUSED' || code === 'EHOSTUNREACH';
        return denied ? 'blocked' : String(error.cause ?? error);
      }
    };
    let outcome = await attempt();
    for (let tries = 1; '${expect}' === 'open' && outcome === 'blocked' && tries < 6; tries++) {
      outcome = await attempt();
    }
    console.log(outcome);
    process.exit(outcome === '${expect}' ? 0 : outcome === 'open' || outcome === 'blocked' ? 1 : 2);`;
  await applyObject({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels },
    spec: {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'probe',
          image: process.env.SERVICE_IMAGE,
          imagePullPolicy: 'IfNotPresent',
          command: ['node', '--input-type=module', '-e', script],
        },
      ],
    },
  });
  const phase = await waitFor(`probe pod ${ns}/${name} to finish`, 120_000, async () => {
    const p = await getJson<V1Pod>(ns, 'pod', name);
    return p?.status?.phase === 'Succeeded' || p?.status?.phase === 'Failed' ? p.status.phase : undefined;
  });
  const log = (await kubectl(['logs', name, '-n', ns])).trim();
  return { phase, log };
}

beforeAll(async () => {
  operator = await installOperator();
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  // Not governed: the chart's own HPA and replica count; E2E_VALUES adds the image and the database.
  await helmUpgrade('helm4', release.name, namespace, {}, [VALUES]);
}, 300_000);

afterAll(async () => {
  await helm('helm4', ['uninstall', release.name, '-n', namespace, '--wait']).catch(() => undefined);
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await operator?.stop();
});

describe('on kind, with real pods', () => {
  it('real probes: every pod of the release passed /startup and /ready, and none restarted', async () => {
    await release.rolledOut(2, 180_000);
    const pods = await release.list<V1Pod>('pods');
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      const app = pod.status?.containerStatuses?.find((c) => c.name === 'app');
      expect(app).toMatchObject({ ready: true, started: true, restartCount: 0 });
    }
  });

  it("helm test: the chart's hardened test pod gets 200 from /health and /ready through the Service", async () => {
    const out = await helm('helm4', ['test', release.name, '-n', namespace, '--timeout', '120s']);
    expect(out).toMatch(/Phase:\s+Succeeded/);
  });

  it('a request through the Ingress (Traefik on the node port KIND_HTTP_PORT) gets 200 from /health', async () => {
    await waitFor('GET /health through the Ingress to answer 200', 120_000, async () =>
      (await ingressGet('/health').catch(() => 0)) === 200 ? true : undefined,
    );
    expect(await ingressGet('/health')).toBe(200);
  });

  it('a rollout under steady traffic through the Ingress fails no request (preStop delay, readiness, maxUnavailable 0)', async () => {
    await release.rolledOut(2, 180_000);
    const result = await underSteadyTraffic(INGRESS_HOST, async () => {
      await kubectl(['rollout', 'restart', `deployment/${release.name}`, '-n', namespace]);
      await release.rolledOut(2, 240_000);
    });
    expect(result.sent).toBeGreaterThan(20);
    expect(result.failures).toEqual([]);
  });

  it('NetworkPolicy: a pod of another namespace cannot reach the API port; a pod of the release can', async () => {
    const pods = await release.list<V1Pod>('pods');
    const ip = pods[0]?.status?.podIP;
    expect(ip).toBeDefined();
    const other = uniqueName('platform-kind-outsider');
    await core.createNamespace({ body: { metadata: { name: other } } });
    try {
      // The positive control: same probe, allowed by the policy's rule for the release's own pods.
      const inside = await probe(
        namespace,
        'np-inside',
        { 'app.kubernetes.io/instance': release.name },
        ip!,
        'open',
      );
      expect(inside).toEqual({ phase: 'Succeeded', log: 'open' });
      const outside = await probe(other, 'np-outside', {}, ip!, 'blocked');
      expect(outside).toEqual({ phase: 'Succeeded', log: 'blocked' });
    } finally {
      await kubectl(['delete', 'pod', 'np-inside', '-n', namespace, '--ignore-not-found', '--wait=false']);
      await core.deleteNamespace({ name: other }).catch(() => undefined);
    }
  });

  it('the operator runs as the Deployment of manifests/ with the locally built image, and one pod leads', async () => {
    expect(operator.mode).toBe('deployment');
    const d = await getJson<V1Deployment>(OPERATOR_NAMESPACE, 'deployment', 'expressapp-operator');
    expect(d?.spec?.template.spec?.containers[0]?.image).toBe(process.env.OPERATOR_IMAGE);
    expect(d?.status?.readyReplicas).toBe(d?.spec?.replicas);
    const pods = JSON.parse(
      await kubectl([
        'get',
        'pods',
        '-n',
        OPERATOR_NAMESPACE,
        '-l',
        'app.kubernetes.io/name=expressapp-operator',
        '-o',
        'json',
      ]),
    ) as { items: V1Pod[] };
    const holder = await waitFor(
      'the operator Lease to have a holder',
      60_000,
      async () =>
        (
          await getJson<{ spec?: { holderIdentity?: string } }>(
            OPERATOR_NAMESPACE,
            'lease',
            'expressapp-operator',
          )
        )?.spec?.holderIdentity,
    );
    expect(pods.items.map((p) => p.metadata?.name)).toContain(holder);
  });
});
