// Operator figures against the cluster of KUBECONFIG (make bench-operator), printed, never asserted:
//  1. convergence latency from an ExpressApp spec change to the Deployment change, p50/p99 over N
//     changes, next to the same figure for the built-in Deployment controller (Deployment change to
//     ReplicaSet change) as the peer;
//  2. time for M ExpressApps to become Ready, and the operator's resident memory then, next to
//     kube-controller-manager's;
//  3. writes during idle resyncs (operator's own count and the apiserver's count of writes to
//     ExpressApps), which must be 0.
// Runs the compiled operator (operator/dist) as a child process. Node strips the types of this file.
import { spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../operator/dist/runtime/kube.js';
import { Informer } from '../../operator/dist/runtime/informer.js';
import { chartDeployment as fixture } from '../../operator/test/fixtures/chart-deployment.ts';

// The target Deployment as the governed chart renders it, with chart replicas 1.
const chartDeployment = (name: string, ns: string) => fixture(name, ns, 1);

const REPO = resolve(import.meta.dirname, '../..');
const KUBECONFIG = process.env.KUBECONFIG!;
const CHANGES = Number(process.env.BENCH_CHANGES ?? 100);
const APPS = Number(process.env.BENCH_APPS ?? 200);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 600);
const RESYNC_SECONDS = Number(process.env.BENCH_RESYNC_SECONDS ?? 30);

type Obj = {
  metadata: { name: string; namespace?: string; generation?: number; ownerReferences?: { name: string }[] };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};

const kc = new KubeConfig();
kc.loadFromFile(KUBECONFIG);
const client = new KubeClient(kc);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const kubectl = (args: string[], input?: string) =>
  execFileSync('kubectl', args, { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const appObj = (name: string, replicas: number) => ({
  apiVersion: 'platform.sqlize.dev/v1alpha1',
  kind: 'ExpressApp',
  metadata: { name },
  spec: { replicas, redis: { host: 'redis', keyPrefix: `${name}:` }, featureFlags: { newCheckout: true } },
});

async function metrics(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}
function sumMetric(text: string, name: string, filter: (line: string) => boolean = () => true): number {
  return text
    .split('\n')
    .filter((l) => (l.startsWith(name + '{') || l.startsWith(name + ' ')) && filter(l))
    .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
}
const objectWrites = (text: string) =>
  sumMetric(text, 'expressapp_operator_api_writes_total', (l) => !/resource="(leases|events)"/.test(l));
function apiserverWritesToExpressApps(): number {
  const text = kubectl(['get', '--raw', '/metrics']);
  return sumMetric(
    text,
    'apiserver_request_total',
    (l) =>
      /resource="expressapps"/.test(l) &&
      /scope="resource"/.test(l) &&
      /verb="(PATCH|PUT|POST|APPLY)"/.test(l),
  );
}
function rssOfPidFile(component: string): number | undefined {
  const pidFile = join(dirname(KUBECONFIG), 'pids', `${component}.pid`);
  if (!existsSync(pidFile)) return undefined;
  const status = readFileSync(`/proc/${readFileSync(pidFile, 'utf8').trim()}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}
const mib = (b: number | undefined) => (b === undefined ? 'n/a' : `${(b / 1048576).toFixed(1)} MiB`);

async function main() {
  const ns = `xapp-bench-${Date.now().toString(36)}`;
  kubectl(['create', 'namespace', ns]);
  const metricsPort = 18180 + Math.floor(Math.random() * 500);
  const op = spawn(process.execPath, [join(REPO, 'operator/dist/main.js')], {
    env: {
      ...process.env,
      WATCH_NAMESPACES: ns,
      POD_NAMESPACE: 'expressapp-system',
      LEADER_ELECTION_ID: `bench-${ns}`,
      METRICS_PORT: String(metricsPort),
      HEALTH_PORT: String(metricsPort + 1),
      BIND_ADDRESS: '127.0.0.1',
      RESYNC_SECONDS: String(RESYNC_SECONDS),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await sleep(3000);
    // --- 1. convergence latency, and the Deployment controller as the peer
    kubectl(
      ['apply', '--server-side', '--field-manager=helm', '-f', '-'],
      JSON.stringify(chartDeployment('conv', ns)),
    );
    kubectl(['apply', '-n', ns, '-f', '-'], JSON.stringify(appObj('conv', 2)));
    const deployments = new Informer<Obj>(client, {
      name: 'deployments',
      path: `/apis/apps/v1/namespaces/${ns}/deployments`,
    });
    const replicasets = new Informer<Obj>(client, {
      name: 'replicasets',
      path: `/apis/apps/v1/namespaces/${ns}/replicasets`,
    });
    let waiter: (() => void) | undefined;
    const check = () => waiter?.();
    deployments.addHandlers({ add: check, update: check });
    replicasets.addHandlers({ add: check, update: check });
    await Promise.all([deployments.start(), replicasets.start()]);
    const until = (cond: () => boolean, ms = 30_000) =>
      new Promise<void>((res, rej) => {
        const t = setTimeout(() => rej(new Error('timeout')), ms);
        waiter = () => {
          if (cond()) {
            clearTimeout(t);
            waiter = undefined;
            res();
          }
        };
        waiter();
      });
    const dep = () => deployments.get(ns, 'conv');
    await until(() => dep()?.spec?.replicas === 2);
    const ours: number[] = [];
    const peer: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      const want = i % 2 === 0 ? 3 : 2;
      const t0 = performance.now();
      await client.mergePatch(
        {
          group: 'platform.sqlize.dev',
          version: 'v1alpha1',
          plural: 'expressapps',
          namespace: ns,
          name: 'conv',
        },
        { spec: { replicas: want } },
      );
      await until(() => dep()?.spec?.replicas === want);
      const t1 = performance.now();
      ours.push(t1 - t0);
      // Peer: the Deployment controller (Go, client-go informers) carrying the same change to the ReplicaSet.
      await until(() =>
        replicasets
          .list()
          .some((rs) => rs.metadata.ownerReferences?.[0]?.name === 'conv' && rs.spec?.replicas === want),
      );
      peer.push(performance.now() - t1);
    }
    await deployments.stop();
    await replicasets.stop();
    console.log(`convergence over ${CHANGES} changes (spec change -> Deployment change):`);
    console.log(
      `  expressapp-operator           p50 ${pct(ours, 50).toFixed(1)} ms  p99 ${pct(ours, 99).toFixed(1)} ms`,
    );
    console.log(
      `  peer: Deployment controller   p50 ${pct(peer, 50).toFixed(1)} ms  p99 ${pct(peer, 99).toFixed(1)} ms  (Deployment change -> ReplicaSet change)`,
    );

    // --- 2. M ExpressApps to Ready
    const names = Array.from({ length: APPS }, (_, i) => `app-${i}`);
    const t0 = Date.now();
    kubectl(
      ['apply', '--server-side', '--field-manager=helm', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: names.map((n) => chartDeployment(n, ns)) }),
    );
    kubectl(
      ['apply', '-n', ns, '-f', '-'],
      // One replica each: the local cluster's three kwok nodes hold 110 pods apiece.
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: names.map((n) => appObj(n, 1)) }),
    );
    let ready = 0;
    for (;;) {
      const list = await client.list<Obj>(`/apis/platform.sqlize.dev/v1alpha1/namespaces/${ns}/expressapps`);
      ready = list.items.filter((a) =>
        ((a.status?.conditions as { type: string; status: string }[] | undefined) ?? []).some(
          (c) => c.type === 'Ready' && c.status === 'True',
        ),
      ).length;
      if (ready >= APPS + 1 || Date.now() - t0 > 600_000) break;
      await sleep(500);
    }
    const m = await metrics(metricsPort);
    console.log(
      `${ready - 1} of ${APPS} ExpressApps Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (Deployments created in the same run; pods simulated by kwok)`,
    );
    console.log(
      `  resident memory: expressapp-operator ${mib(sumMetric(m, 'process_resident_memory_bytes'))} (V8 heap used ${mib(sumMetric(m, 'nodejs_heap_size_used_bytes'))}, NODE_OPTIONS=${process.env.NODE_OPTIONS ?? ''}); peer kube-controller-manager ${mib(rssOfPidFile('kube-controller-manager'))}`,
    );

    // --- 3. idle resyncs
    await sleep(5000);
    const w0 = objectWrites(await metrics(metricsPort));
    const a0 = apiserverWritesToExpressApps();
    const r0 = sumMetric(await metrics(metricsPort), 'controller_runtime_reconcile_total');
    await sleep(IDLE_SECONDS * 1000);
    const after = await metrics(metricsPort);
    console.log(
      `idle for ${IDLE_SECONDS} s (resync every ${RESYNC_SECONDS} s, ${APPS + 1} ExpressApps): ${sumMetric(after, 'controller_runtime_reconcile_total') - r0} reconciles,`,
    );
    console.log(
      `  writes by the operator (all but Leases/Events): ${objectWrites(after) - w0}; apiserver-counted PATCH/PUT/POST on ExpressApps (any client): ${apiserverWritesToExpressApps() - a0}`,
    );
    console.log(
      `  resident memory after idle: ${mib(sumMetric(after, 'process_resident_memory_bytes'))} (V8 heap used ${mib(sumMetric(after, 'nodejs_heap_size_used_bytes'))})`,
    );
  } finally {
    // The namespace goes first, while the operator still runs to drop the finalizers.
    kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=180s']);
    op.kill('SIGTERM');
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
