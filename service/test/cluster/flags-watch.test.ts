// Feature flags through the Kubernetes API, against the real local control plane (make
// test-service-cluster): service processes watch their flags ConfigMap with a token of the chart's
// ServiceAccount, bound by the chart's own Role, while their "mounted" file stays stale, the way a
// ConfigMap volume stays until the kubelet's next sync.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { isLocalCluster, startComponents, stopComponents } from '../../../e2e/lib/cluster.js';
import {
  formatPropagation,
  servedFlags,
  untilEveryReplicaServes,
} from '../../../e2e/lib/flag-propagation.js';
import { chartDir, helm, kubectl } from '../../../e2e/lib/helm.js';
import { freePort, startServer, type Server } from '../support/processes.js';

const RELEASE = 'flagsapp';
const CONFIGMAP = `${RELEASE}-flags`;
const ns = `flags-watch-${Date.now().toString(36)}`;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'flags-watch-'));
const servers: Server[] = [];

const writeConfigMap = (flags: Record<string, boolean>) =>
  kubectl(
    ['apply', '-n', ns, '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: CONFIGMAP },
      data: { 'flags.json': JSON.stringify(flags) },
    }),
  );

// A kubeconfig for the cluster of KUBECONFIG with a token of the release's ServiceAccount, or one
// that points at a port where nothing listens.
async function kubeconfig(file: string, server?: string): Promise<string> {
  const token = (await kubectl(['create', 'token', RELEASE, '-n', ns, '--duration=1h'])).trim();
  const admin = JSON.parse(await kubectl(['config', 'view', '--raw', '--minify', '-o', 'json'])) as {
    clusters: { cluster: Record<string, string> }[];
  };
  const cluster = { ...admin.clusters[0]!.cluster, ...(server ? { server } : {}) };
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster }],
    users: [{ name: 'sa', user: { token } }],
    contexts: [{ name: 'c', context: { cluster: 'c', user: 'sa' } }],
    'current-context': 'c',
  };
  const p = path.join(work, file);
  fs.writeFileSync(p, JSON.stringify(cfg), { mode: 0o600 });
  return p;
}

// One replica: its own SQLite file and its own copy of the flags file, which nothing updates.
async function replica(name: string, kubeconfigPath: string, fileFlags: Record<string, boolean>) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  const file = path.join(dir, 'flags.json');
  fs.writeFileSync(file, JSON.stringify(fileFlags));
  const server = await startServer({
    STATE_DIR: dir,
    DB_DIALECT: 'sqlite',
    LOG_LEVEL: 'warn',
    BCRYPT_COST: '4',
    FEATURE_FLAGS_FILE: file,
    FEATURE_FLAGS_CONFIGMAP: CONFIGMAP,
    POD_NAMESPACE: ns,
    KUBECONFIG: kubeconfigPath,
  });
  servers.push(server);
  return { server, url: `http://127.0.0.1:${server.port}`, file };
}

let saKubeconfig: string;
let replicas: { server: Server; url: string; file: string }[] = [];
const urls = () => replicas.map((r) => r.url);

beforeAll(async () => {
  await kubectl(['create', 'namespace', ns]);
  // The chart's own ServiceAccount, Role and RoleBinding: what the pods get is what is tested.
  const rbac = await helm('helm4', [
    'template',
    RELEASE,
    chartDir,
    '--namespace',
    ns,
    '--show-only',
    'templates/serviceaccount.yaml',
    '--show-only',
    'templates/flags-watch-rbac.yaml',
  ]);
  await kubectl(['apply', '-n', ns, '-f', '-'], rbac);
  await writeConfigMap({ beta: false });
  saKubeconfig = await kubeconfig('sa.kubeconfig');
  replicas = await Promise.all(['a', 'b', 'c'].map((n) => replica(n, saKubeconfig, { beta: false })));
}, 120_000);

afterAll(async () => {
  await Promise.all(
    servers.map((s) => {
      s.child.kill('SIGTERM');
      return s.exited;
    }),
  );
  await kubectl(['delete', 'namespace', ns, '--wait=false']);
  fs.rmSync(work, { recursive: true, force: true });
});

describe('flags ConfigMap watched through the Kubernetes API', () => {
  it('serves a changed ConfigMap on every replica without a restart while the files stay stale', async () => {
    for (const r of replicas) expect((await servedFlags(r.url)).appliedFrom).toBe('feed');
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const beta = i % 2 === 0;
      const t0 = performance.now();
      await writeConfigMap({ beta });
      times.push(await untilEveryReplicaServes(urls(), { beta }, t0, 20_000));
    }
    process.stdout.write(
      `${formatPropagation('kubectl apply of the ConfigMap -> last of 3 replicas', times)}\n`,
    );
    for (const r of replicas) {
      expect(JSON.parse(fs.readFileSync(r.file, 'utf8'))).toEqual({ beta: false });
      expect(r.server.child.exitCode).toBeNull();
    }
    // The same content gives the same revision on every replica, whichever path brought it.
    const revisions = new Set(await Promise.all(urls().map(async (u) => (await servedFlags(u)).revision)));
    expect(revisions.size).toBe(1);
  });

  it('gives a replica that starts later the current flags, not its stale file', async () => {
    await writeConfigMap({ beta: true, newCheckout: true });
    await untilEveryReplicaServes(urls(), { beta: true, newCheckout: true }, performance.now(), 20_000);
    const late = await replica('late', saKubeconfig, { beta: false });
    const served = await servedFlags(late.url);
    expect(served.flags).toMatchObject({ beta: true, newCheckout: true });
    expect(served.appliedFrom).toBe('feed');
    replicas.push(late);
  });

  it('reads nothing but its own ConfigMap with the chart Role', async () => {
    const as = `system:serviceaccount:${ns}:${RELEASE}`;
    // `kubectl auth can-i` prints yes and exits 0, or prints no and exits 1.
    const can = (...args: string[]) =>
      kubectl(['auth', 'can-i', ...args, '-n', ns, `--as=${as}`]).then(
        () => true,
        () => false,
      );
    expect(await can('watch', `configmaps/${CONFIGMAP}`)).toBe(true);
    expect(await can('get', 'configmaps/other')).toBe(false);
    expect(await can('list', 'configmaps')).toBe(false);
    expect(await can('get', 'secrets')).toBe(false);
  });

  it('falls back to the mounted file while the API is unreachable', async () => {
    const deadPort = await freePort();
    const offline = await replica(
      'offline',
      await kubeconfig('dead.kubeconfig', `https://127.0.0.1:${deadPort}`),
      {
        beta: false,
      },
    );
    const first = await servedFlags(offline.url);
    expect(first.flags).toMatchObject({ beta: false });
    expect(first.appliedFrom).toBe('file');
    // The kubelet's sync, as it would write the file.
    fs.writeFileSync(offline.file, JSON.stringify({ beta: true }));
    await untilEveryReplicaServes([offline.url], { beta: true }, performance.now(), 20_000);
    const res = await fetch(`${offline.url}/api/v1/flags`);
    const body = (await res.json()) as { appliedFrom: string; watch: { live: boolean; restarts: number } };
    expect(body.appliedFrom).toBe('file');
    expect(body.watch.live).toBe(false);
    expect(body.watch.restarts).toBeGreaterThan(0);
    expect((await fetch(`${offline.url}/ready`)).status).toBe(200);
  });

  it('recovers its watch after the API server restarts and serves the next change', async () => {
    if (!isLocalCluster())
      throw new Error('this test restarts the local control plane; run it through make test-service-cluster');
    await writeConfigMap({ beta: false, newCheckout: true });
    await untilEveryReplicaServes(urls(), { beta: false }, performance.now(), 20_000);
    await stopComponents('kube-apiserver');
    // Still serving the last flags while the API is away.
    for (const u of urls()) expect((await servedFlags(u)).flags).toMatchObject({ beta: false });
    await new Promise((r) => setTimeout(r, 2000));
    await startComponents('kube-apiserver');
    const t0 = performance.now();
    await writeConfigMap({ beta: true, newCheckout: true });
    const ms = await untilEveryReplicaServes(urls(), { beta: true }, t0, 60_000);
    process.stdout.write(
      `first change after the API server restart served by all replicas in ${ms.toFixed(0)} ms\n`,
    );
    for (const u of urls()) {
      const body = (await (await fetch(`${u}/api/v1/flags`)).json()) as { watch: { live: boolean } };
      expect(body.watch.live).toBe(true);
    }
  }, 120_000);
});
