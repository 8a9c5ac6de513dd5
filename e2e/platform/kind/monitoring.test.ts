// What a Prometheus Operator user relies on, against the real one of the kind cluster's monitoring
// add-on (hack/cluster/kind/addons/monitoring.yaml: a Prometheus selecting `release: monitoring`, as
// kube-prometheus-stack does): the chart's ServiceMonitor and the operator's are discovered and every
// pod's target is up, the chart's PrometheusRule is loaded and evaluates without errors, every metric
// its alerts and its Grafana dashboard use exists in the real scrape, and stopping PostgreSQL makes
// the dependency alert fire. Each step prints its figure as a `[kind]` line.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { chartQueries, type ChartQueries } from '../../lib/chart-queries.js';
import { repoRoot } from '../../lib/cluster.js';
import { applyObject, helm, helmUpgrade, kubectl } from '../../lib/helm.js';
import { clients, uniqueName } from '../../lib/kube.js';
import { installOperator, type InstalledOperator } from '../../lib/operator.js';
import { OPERATOR_NAMESPACE } from '../../lib/operator-process.js';
import { MONITORING_RELEASE_LABEL, Prometheus, type Alert, type Sample } from '../../lib/promql.js';
import { Release } from '../../lib/release.js';
import { waitFor } from '../../lib/wait.js';
import { copyDependency } from '../../lib/workloads.js';

const { core } = clients();
const namespace = uniqueName('monitoring-kind');
const release = new Release(namespace, 'metered');
const VALUES = resolve(dirname(fileURLToPath(import.meta.url)), 'monitoring-values.yaml');
// The operator's ServiceMonitor as manifests/ ships it; a platform engineer adds the label their
// Prometheus selects (the overlay says so), and so does this suite.
const OPERATOR_SERVICE_MONITOR = resolve(
  repoRoot,
  'manifests',
  'overlays',
  'prometheus',
  'servicemonitor.yaml',
);
// The operator's metrics Service: the `service` label of its targets.
const OPERATOR_METRICS_SERVICE = 'expressapp-operator-metrics';
const DEPENDENCY_ALERT = 'ExpressSqlizeDependencyDown';
let operator: InstalledOperator;
let prometheus: Prometheus;
let installed = 0;
let operatorMonitored = 0;
let queries: ChartQueries;

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);
const podNames = async (ns: string, selector: string) =>
  (
    JSON.parse(await kubectl(['get', 'pods', '-n', ns, '-l', selector, '-o', 'json'])) as { items: V1Pod[] }
  ).items
    .map((p) => p.metadata!.name!)
    .sort();

/** Waits until `up` of the targets of Service `service` in `ns` is 1 for exactly the pods `pods`. */
function everyPodUp(ns: string, service: string, pods: string[], timeoutMs: number): Promise<Sample[]> {
  let seen = 'no target';
  return waitFor(
    `up == 1 for the pods ${pods.join(', ')} of service ${ns}/${service}`,
    timeoutMs,
    async () => {
      const samples = await prometheus.query(`up{namespace="${ns}", service="${service}"}`);
      seen = samples.map((s) => `${s.metric.pod}=${s.value[1]}`).join(', ') || 'no target';
      const up = samples.filter((s) => s.value[1] === '1').map((s) => s.metric.pod);
      return samples.length === pods.length && pods.every((p) => up.includes(p)) ? samples : undefined;
    },
    1000,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}; last seen: ${seen}`);
  });
}

beforeAll(async () => {
  operator = await installOperator();
  const serviceMonitor = parse(readFileSync(OPERATOR_SERVICE_MONITOR, 'utf8')) as {
    metadata: { labels?: Record<string, string> };
  };
  serviceMonitor.metadata.labels = { ...serviceMonitor.metadata.labels, ...MONITORING_RELEASE_LABEL };
  await applyObject(serviceMonitor);
  operatorMonitored = performance.now();
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  // A PostgreSQL of the suite's own, which the fault test stops; hack/e2e.sh's serves the other suites.
  const database = await copyDependency('postgresql', namespace);
  await helmUpgrade('helm4', release.name, namespace, { 'database.host': database }, [VALUES]);
  installed = performance.now();
  queries = await chartQueries('helm4', release.name, namespace);
  prometheus = await Prometheus.connect();
}, 300_000);

afterAll(async () => {
  prometheus?.close();
  await kubectl(['delete', '-f', OPERATOR_SERVICE_MONITOR, '--ignore-not-found']).catch(() => '');
  await helm('helm4', ['uninstall', release.name, '-n', namespace, '--wait']).catch(() => undefined);
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await operator?.stop();
});

describe('the Prometheus Operator on kind (the monitoring add-on)', () => {
  it("the chart's ServiceMonitor is discovered and every service pod's target is up == 1", async () => {
    await release.rolledOut(2, 180_000);
    const pods = await podNames(namespace, release.selector);
    await everyPodUp(namespace, release.name, pods, 180_000);
    const targets = await prometheus.targets({ namespace, service: release.name });
    expect(targets.map((t) => t.labels.pod).sort()).toEqual(pods);
    expect(targets.every((t) => t.health === 'up' && t.labels.endpoint === 'metrics')).toBe(true);
    console.log(
      `[kind] monitoring: ${pods.length} service pods discovered through the chart's ServiceMonitor, every target up == 1 ${seconds(installed)} s after helm install returned`,
    );
  }, 400_000);

  it("the operator's ServiceMonitor is discovered and every operator pod's target is up == 1", async () => {
    const pods = await podNames(OPERATOR_NAMESPACE, 'app.kubernetes.io/name=expressapp-operator');
    expect(pods.length).toBeGreaterThan(0);
    await everyPodUp(OPERATOR_NAMESPACE, OPERATOR_METRICS_SERVICE, pods, 180_000);
    console.log(
      `[kind] monitoring: ${pods.length} operator pods (service ${OPERATOR_METRICS_SERVICE}) up == 1 ${seconds(operatorMonitored)} s after its ServiceMonitor was applied`,
    );
  }, 240_000);

  it('the PrometheusRule is loaded and every rule evaluates with no error', async () => {
    const alerts = queries.rules.map((r) => r.alert).sort();
    expect(alerts.length).toBeGreaterThan(0);
    // The operator names the rule file <namespace>-<PrometheusRule name>-<uid>.yaml.
    const rules = await waitFor(
      "the release's rules to be loaded and evaluated",
      180_000,
      async () => {
        const loaded = (await prometheus.rules())
          .filter((g) => g.file.includes(`/${namespace}-${release.name}-`))
          .flatMap((g) => g.rules);
        return loaded.length === alerts.length && loaded.every((r) => r.health !== 'unknown')
          ? loaded
          : undefined;
      },
      1000,
    );
    expect(rules.map((r) => r.name).sort()).toEqual(alerts);
    expect(
      rules.filter((r) => r.health !== 'ok' || r.lastError).map((r) => `${r.name}: ${r.lastError}`),
    ).toEqual([]);
    console.log(
      `[kind] monitoring: ${rules.length} alerting rules of the PrometheusRule loaded and evaluated, none failing, ${seconds(installed)} s after the chart's install`,
    );
  }, 240_000);

  it("every metric the chart's alerts and its Grafana dashboard use is in the real scrape", async () => {
    const names = async (exprs: string[]) =>
      (await Promise.all(exprs.map((e) => prometheus.metricNames(e)))).flat();
    const fromRules = await names(queries.rules.map((r) => r.expr));
    const fromDashboard = await names(queries.dashboard);
    expect(fromRules.length).toBeGreaterThan(0);
    expect(fromDashboard.length).toBeGreaterThan(0);
    const wanted = [...new Set([...fromRules, ...fromDashboard])].sort();
    // Series of this release's namespace only: the service's own, and kube-state-metrics' about its pods.
    let absent = wanted;
    await waitFor(
      `every metric in the scrape of namespace ${namespace}`,
      120_000,
      async () => {
        const present = await Promise.all(
          absent.map(
            async (name) =>
              (await prometheus.query(`count({__name__="${name}", namespace="${namespace}"})`)).length > 0,
          ),
        );
        absent = absent.filter((_, i) => !present[i]);
        if (absent.length > 0) throw new Error(`absent: ${absent.join(', ')}`);
        return true;
      },
      2000,
    );
    console.log(
      `[kind] monitoring: all ${wanted.length} metric names of the alerts and the dashboard have series: ${wanted.join(', ')}`,
    );
  });

  it('PostgreSQL stopped: the dependency alert reaches firing (for: shortened to 10s by values)', async () => {
    const rule = queries.rules.find((r) => r.alert === DEPENDENCY_ALERT);
    expect(rule?.for).toBe('10s');
    const ours = (a: Alert) => a.labels.alertname === DEPENDENCY_ALERT && a.labels.namespace === namespace;
    expect((await prometheus.alerts()).filter(ours)).toEqual([]);
    const stopped = performance.now();
    await kubectl(['scale', 'deployment/postgresql', '-n', namespace, '--replicas=0']);
    let pending: string | undefined;
    const firing = await waitFor(
      `alert ${DEPENDENCY_ALERT} of ${namespace} to fire`,
      240_000,
      async () => {
        const alert = (await prometheus.alerts()).find(ours);
        if (alert?.state === 'pending') pending ??= seconds(stopped);
        return alert?.state === 'firing' ? alert : undefined;
      },
      1000,
    ).catch(async (error: unknown) => {
      // What the pods did meanwhile: an alert that never fires because the pods crashed says so here.
      const pods = await release.list<V1Pod>('pods');
      const states = pods.map(
        (p) =>
          `${p.metadata?.name}: ${JSON.stringify(p.status?.containerStatuses?.[0]?.state)} restarts ${p.status?.containerStatuses?.[0]?.restartCount}`,
      );
      throw new Error(`${String(error)}; pending after ${pending ?? 'never'} s; pods: ${states.join('; ')}`);
    });
    expect(firing.labels).toMatchObject({
      namespace,
      service: release.name,
      release: release.name,
      severity: 'critical',
    });
    console.log(
      `[kind] monitoring: PostgreSQL stopped; ${DEPENDENCY_ALERT} (check ${firing.labels.check}) pending after ${pending ?? '?'} s, firing after ${seconds(stopped)} s (for: 10s, scrape and evaluation every 5 s)`,
    );
  }, 300_000);
});
