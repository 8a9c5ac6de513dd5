// Helpers for tests against a real cluster (KUBECONFIG): kubectl, an admin client, the operator as a
// child process running with its ServiceAccount's token (so the RBAC in manifests/ is what is tested),
// and polling.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, type KubeObject } from '../../src/runtime/kube.js';
import { chartDeployment } from '../fixtures/chart-deployment.js';

export const REPO = resolve(import.meta.dirname, '../../..');
export const KUBECONFIG = process.env.KUBECONFIG ?? join(REPO, '.local/cluster/kubeconfig');
const TOOLS = join(
  process.env.ESP_CACHE_DIR ?? join(process.env.HOME ?? '/root', '.cache/express-sqlize-platform'),
  'bin',
);
const env = { ...process.env, KUBECONFIG, PATH: `${TOOLS}:${process.env.PATH}` };

export function kubectl(args: string[], input?: string): string {
  return execFileSync('kubectl', args, { env, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs kubectl expecting failure; returns stderr. */
export function kubectlFails(args: string[], input?: string): string {
  try {
    kubectl(args, input);
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? e);
  }
  throw new Error(`kubectl ${args.join(' ')} succeeded but was expected to fail`);
}

export function adminClient(): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromFile(KUBECONFIG);
  return new KubeClient(kc);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    await sleep(200);
  }
}

export function uniqueNamespace(prefix: string): string {
  const ns = `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
  kubectl(['create', 'namespace', ns]);
  return ns;
}

export function applyChartDeployment(release: string, ns: string, chartReplicas = 2, manager = 'helm'): void {
  kubectl(
    ['apply', '--server-side', `--field-manager=${manager}`, '-f', '-'],
    JSON.stringify(chartDeployment(release, ns, chartReplicas)),
  );
}

/** Creates the ExpressApp or replaces its whole spec (fields left out are removed, whoever set them). */
export function applyApp(ns: string, name: string, spec: object): void {
  const exists = kubectl(['get', '-n', ns, 'xapp', name, '--ignore-not-found', '-o', 'name']).trim() !== '';
  if (!exists) {
    const obj = {
      apiVersion: 'platform.sqlize.dev/v1alpha1',
      kind: 'ExpressApp',
      metadata: { name, namespace: ns },
      spec,
    };
    kubectl(['create', '-f', '-'], JSON.stringify(obj));
    return;
  }
  kubectl([
    'patch',
    '-n',
    ns,
    `xapp/${name}`,
    '--type=json',
    '-p',
    JSON.stringify([{ op: 'replace', path: '/spec', value: spec }]),
  ]);
}

export type Deployment = KubeObject & {
  spec: {
    replicas?: number;
    template: {
      metadata?: { annotations?: Record<string, string> };
      spec: { containers: { name: string; env?: { name: string; value?: string; valueFrom?: unknown }[] }[] };
    };
  };
  status?: { updatedReplicas?: number; availableReplicas?: number; observedGeneration?: number };
};

export const deploymentRef = (ns: string, name: string) => ({
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  namespace: ns,
  name,
});
export const appRef = (ns: string, name: string) => ({
  group: 'platform.sqlize.dev',
  version: 'v1alpha1',
  plural: 'expressapps',
  namespace: ns,
  name,
});

export function envOf(d: Deployment): Record<string, string> {
  const c = d.spec.template.spec.containers.find((x) => x.name === 'app')!;
  return Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? JSON.stringify(e.valueFrom)]));
}

export function readyCondition(
  app: KubeObject,
): { status: string; reason: string; message: string } | undefined {
  const conds =
    (
      app.status as
        { conditions?: { type: string; status: string; reason: string; message: string }[] } | undefined
    )?.conditions ?? [];
  return conds.find((c) => c.type === 'Ready');
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

let saKubeconfigPath: string | undefined;
/** A kubeconfig holding a token of the operator's ServiceAccount (manifests/rbac). */
export function serviceAccountKubeconfig(): string {
  if (saKubeconfigPath) return saKubeconfigPath;
  const token = kubectl([
    'create',
    'token',
    'expressapp-operator',
    '-n',
    'expressapp-system',
    '--duration=4h',
  ]).trim();
  const admin = JSON.parse(kubectl(['config', 'view', '--raw', '--minify', '-o', 'json'])) as {
    clusters: { name: string; cluster: Record<string, string> }[];
  };
  const cluster = admin.clusters[0]!;
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: cluster.cluster }],
    users: [{ name: 'expressapp-operator', user: { token } }],
    contexts: [{ name: 'c', context: { cluster: 'c', user: 'expressapp-operator' } }],
    'current-context': 'c',
  };
  saKubeconfigPath = join(mkdtempSync(join(tmpdir(), 'xapp-sa-')), 'kubeconfig');
  writeFileSync(saKubeconfigPath, JSON.stringify(cfg));
  return saKubeconfigPath;
}

export interface OperatorOptions {
  identity: string;
  env?: Record<string, string>;
}

/** The operator as a local process (what make run-operator starts), with its logs kept for assertions. */
export class OperatorProcess {
  child: ChildProcess | undefined;
  logs = '';
  metricsPort = 0;
  healthPort = 0;
  constructor(private readonly opts: OperatorOptions) {}

  async start(): Promise<this> {
    this.metricsPort = await freePort();
    this.healthPort = await freePort();
    this.logs = '';
    this.child = spawn(process.execPath, ['--enable-source-maps', join(REPO, 'operator/dist/main.js')], {
      env: {
        ...process.env,
        KUBECONFIG: serviceAccountKubeconfig(),
        POD_NAME: this.opts.identity,
        POD_NAMESPACE: 'expressapp-system',
        METRICS_PORT: String(this.metricsPort),
        HEALTH_PORT: String(this.healthPort),
        BIND_ADDRESS: '127.0.0.1',
        LEASE_DURATION_SECONDS: '6',
        RENEW_DEADLINE_SECONDS: '4',
        RETRY_PERIOD_SECONDS: '1',
        FINALIZER_TIMEOUT_SECONDS: '20',
        ...this.opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (b: Buffer) => (this.logs += b.toString()));
    this.child.stderr!.on('data', (b: Buffer) => (this.logs += b.toString()));
    return this;
  }

  isLeader(): boolean {
    return this.logs.includes('"became leader"');
  }

  async waitForLeader(timeoutMs = 30_000): Promise<void> {
    await eventually(`${this.opts.identity} to lead`, () => this.isLeader(), timeoutMs);
  }

  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
        sum += Number(line.split(' ').pop());
    }
    return sum;
  }

  /** Writes to anything but Leases and Events (those are the election and the audit trail). */
  async objectWrites(): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
    return text
      .split('\n')
      .filter(
        (l) => l.startsWith('expressapp_operator_api_writes_total{') && !/resource="(leases|events)"/.test(l),
      )
      .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await exited;
  }
}

export function readFileOrEmpty(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
