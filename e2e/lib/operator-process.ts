// The ExpressApp operator as a local process (what `make run-operator` starts) authenticated with a
// token of its ServiceAccount, so the RBAC of manifests/ is what the cluster enforces even where the
// operator's own pods cannot run (kwok only simulates them). The single copy of this runner: the
// operator's cluster tests import it from here.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot } from './cluster.js';
import { kubectl } from './helm.js';
import { waitFor } from './wait.js';

export const OPERATOR_NAMESPACE = 'expressapp-system';
export const OPERATOR_SERVICE_ACCOUNT = 'expressapp-operator';

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
/** A kubeconfig for the cluster of KUBECONFIG holding a token of the operator's ServiceAccount. */
export async function serviceAccountKubeconfig(): Promise<string> {
  if (saKubeconfigPath) return saKubeconfigPath;
  const token = (
    await kubectl(['create', 'token', OPERATOR_SERVICE_ACCOUNT, '-n', OPERATOR_NAMESPACE, '--duration=4h'])
  ).trim();
  const admin = JSON.parse(await kubectl(['config', 'view', '--raw', '--minify', '-o', 'json'])) as {
    clusters: { name: string; cluster: Record<string, string> }[];
  };
  const cluster = admin.clusters[0]!;
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: cluster.cluster }],
    users: [{ name: OPERATOR_SERVICE_ACCOUNT, user: { token } }],
    contexts: [{ name: 'c', context: { cluster: 'c', user: OPERATOR_SERVICE_ACCOUNT } }],
    'current-context': 'c',
  };
  saKubeconfigPath = join(mkdtempSync(join(tmpdir(), 'xapp-sa-')), 'kubeconfig');
  writeFileSync(saKubeconfigPath, JSON.stringify(cfg), { mode: 0o600 });
  return saKubeconfigPath;
}

export interface OperatorOptions {
  identity: string;
  env?: Record<string, string>;
}

/** The operator as a child process, with its logs kept for assertions and failure reports. */
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
    this.child = spawn(
      process.execPath,
      ['--enable-source-maps', resolve(repoRoot, 'operator/dist/main.js')],
      {
        env: {
          ...process.env,
          KUBECONFIG: await serviceAccountKubeconfig(),
          POD_NAME: this.opts.identity,
          POD_NAMESPACE: OPERATOR_NAMESPACE,
          METRICS_PORT: String(this.metricsPort),
          HEALTH_PORT: String(this.healthPort),
          BIND_ADDRESS: '127.0.0.1',
          // Short lease timings so a test that replaces the leader does not wait 15 s per hand-over.
          LEASE_DURATION_SECONDS: '6',
          RENEW_DEADLINE_SECONDS: '4',
          RETRY_PERIOD_SECONDS: '1',
          FINALIZER_TIMEOUT_SECONDS: '20',
          ...this.opts.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child.stdout!.on('data', (b: Buffer) => (this.logs += b.toString()));
    this.child.stderr!.on('data', (b: Buffer) => (this.logs += b.toString()));
    return this;
  }

  isLeader(): boolean {
    return this.logs.includes('"became leader"');
  }

  async waitForLeader(timeoutMs = 30_000): Promise<void> {
    await waitFor(`operator ${this.opts.identity} to lead`, timeoutMs, async () => {
      const c = this.child;
      if (c && (c.exitCode !== null || c.signalCode !== null)) {
        throw new Error(`the operator exited (${c.exitCode ?? c.signalCode}); its output:\n${this.logs}`);
      }
      return this.isLeader() ? true : undefined;
    });
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
