// What operator/chart renders for its metrics, under Helm 3 and Helm 4: each ServiceMonitor option
// where Prometheus reads it, secure metrics (HTTPS, the scraper's token, the review RBAC, the
// metrics-reader ClusterRole and its bindings, the certificate Secret) and nothing of it by default,
// the ServiceMonitor accepted by kubeconform -strict, and the kustomize manifests saying the same.
// Run by `make test-operator-chart` (node --test); HELM3, HELM4 and KUBECONFORM name the binaries.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const chart = path.join(repo, 'operator/chart');
const bin = path.join(
  process.env.ESP_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'express-sqlize-platform'),
  'bin',
);
const tool = (env: string, name: string) => process.env[env] ?? path.join(bin, name);
const helms = [tool('HELM3', 'helm3'), tool('HELM4', 'helm4')];

type Endpoint = Record<string, unknown> & { relabelings?: unknown[]; metricRelabelings?: unknown[] };
type Obj = {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown> & { endpoints?: Endpoint[] };
  rules?: unknown[];
  subjects?: unknown[];
};
type Container = { env?: { name: string; value?: string }[]; volumeMounts?: { mountPath: string }[] };

const parse = (text: string): Obj[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
const helmTemplate = (helm: string, args: string[]) =>
  execFileSync(helm, ['template', 'expressapp-operator', chart, '-n', 'expressapp-system', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
const kustomize = (dir: string) =>
  parse(execFileSync(path.join(bin, 'kubectl'), ['kustomize', dir], { encoding: 'utf8' }));
const one = (objs: Obj[], kind: string, suffix = '') => {
  const found = objs.filter((o) => o.kind === kind && o.metadata.name.endsWith(suffix));
  assert.equal(found.length, 1, `one ${kind} *${suffix}: ${objs.map((o) => o.metadata.name).join(', ')}`);
  return found[0]!;
};
const env = (objs: Obj[]) => {
  const c = (one(objs, 'Deployment').spec as { template: { spec: { containers: Container[] } } }).template
    .spec.containers[0]!;
  return { vars: Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value])), mounts: c.volumeMounts };
};

const OPTIONS = [
  '--set=metrics.serviceMonitor.enabled=true',
  '--set=metrics.serviceMonitor.namespace=monitoring',
  '--set=metrics.serviceMonitor.labels.release=kube-prometheus-stack',
  '--set=metrics.serviceMonitor.jobLabel=app.kubernetes.io/instance',
  '--set=metrics.serviceMonitor.targetLabels={team}',
  '--set=metrics.serviceMonitor.interval=15s',
  '--set=metrics.serviceMonitor.scrapeTimeout=5s',
  '--set-json=metrics.serviceMonitor.relabelings=[{"sourceLabels":["__meta_kubernetes_pod_node_name"],"targetLabel":"node"}]',
  '--set-json=metrics.serviceMonitor.metricRelabelings=[{"sourceLabels":["__name__"],"regex":"nodejs_.*","action":"drop"}]',
];
const SECURE = ['--set=metrics.serviceMonitor.enabled=true', '--set=metrics.secure.enabled=true'];

for (const helm of helms) {
  const major = execFileSync(helm, ['version', '--template', '{{.Version}}'], { encoding: 'utf8' });
  describe(`${major}: the ServiceMonitor's options`, () => {
    const objs = parse(helmTemplate(helm, OPTIONS));
    const sm = one(objs, 'ServiceMonitor');
    const ep = sm.spec!.endpoints![0]!;

    it('lives in metrics.serviceMonitor.namespace and still scrapes the release namespace', () => {
      assert.equal(sm.metadata.namespace, 'monitoring');
      assert.deepEqual(sm.spec!.namespaceSelector, { matchNames: ['expressapp-system'] });
    });
    it('carries the labels Prometheus selects by (kube-prometheus-stack: release)', () => {
      assert.equal(sm.metadata.labels?.release, 'kube-prometheus-stack');
    });
    it('sets jobLabel and targetLabels', () => {
      assert.equal(sm.spec!.jobLabel, 'app.kubernetes.io/instance');
      assert.deepEqual(sm.spec!.targetLabels, ['team']);
    });
    it('sets interval and scrapeTimeout', () => {
      assert.equal(ep.interval, '15s');
      assert.equal(ep.scrapeTimeout, '5s');
    });
    it('passes relabelings and metricRelabelings through', () => {
      assert.deepEqual(ep.relabelings, [
        { sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' },
      ]);
      assert.deepEqual(ep.metricRelabelings, [
        { sourceLabels: ['__name__'], regex: 'nodejs_.*', action: 'drop' },
      ]);
    });
    it('scrapes plain HTTP by default, with no review RBAC and no secure env', () => {
      assert.equal(ep.scheme, undefined);
      assert.equal(ep.bearerTokenFile, undefined);
      assert.equal(objs.filter((o) => /metrics-(auth|reader)$/.test(o.metadata.name)).length, 0);
      assert.equal(env(objs).vars.METRICS_SECURE, undefined);
    });
  });

  describe(`${major}: metrics.secure`, () => {
    it('turns the operator to HTTPS and the ServiceMonitor to https with the scraper token', () => {
      const objs = parse(helmTemplate(helm, SECURE));
      assert.equal(env(objs).vars.METRICS_SECURE, 'true');
      assert.equal(env(objs).vars.METRICS_CERT_DIR, undefined);
      const ep = one(objs, 'ServiceMonitor').spec!.endpoints![0]!;
      assert.equal(ep.scheme, 'https');
      assert.equal(ep.bearerTokenFile, '/var/run/secrets/kubernetes.io/serviceaccount/token');
      assert.deepEqual(ep.tlsConfig, { insecureSkipVerify: true });
    });
    it('grants the operator create on tokenreviews and subjectaccessreviews, and renders metrics-reader', () => {
      const objs = parse(helmTemplate(helm, SECURE));
      assert.deepEqual(one(objs, 'ClusterRole', '-metrics-auth').rules, [
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
        { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
      ]);
      assert.deepEqual(one(objs, 'ClusterRoleBinding', '-metrics-auth').subjects, [
        { kind: 'ServiceAccount', name: 'expressapp-operator', namespace: 'expressapp-system' },
      ]);
      assert.deepEqual(one(objs, 'ClusterRole', '-metrics-reader').rules, [
        { nonResourceURLs: ['/metrics'], verbs: ['get'] },
      ]);
      assert.equal(
        objs.filter((o) => o.kind === 'ClusterRoleBinding' && /reader$/.test(o.metadata.name)).length,
        0,
      );
    });
    it('binds metrics-reader to metrics.secure.readers', () => {
      const objs = parse(
        helmTemplate(helm, [
          ...SECURE,
          '--set-json=metrics.secure.readers=[{"name":"kube-prometheus-stack-prometheus","namespace":"monitoring"}]',
        ]),
      );
      assert.deepEqual(one(objs, 'ClusterRoleBinding', '-metrics-reader').subjects, [
        { kind: 'ServiceAccount', name: 'kube-prometheus-stack-prometheus', namespace: 'monitoring' },
      ]);
    });
    it('mounts certSecret at METRICS_CERT_DIR and takes tlsConfig for the scrape', () => {
      const objs = parse(
        helmTemplate(helm, [
          ...SECURE,
          '--set=metrics.secure.certSecret=operator-metrics-tls',
          '--set=metrics.secure.authCacheSeconds=30',
          '--set-json=metrics.serviceMonitor.tlsConfig={"serverName":"expressapp-operator-metrics.expressapp-system.svc","ca":{"secret":{"name":"operator-metrics-tls","key":"ca.crt"}}}',
        ]),
      );
      const { vars, mounts } = env(objs);
      assert.equal(vars.METRICS_CERT_DIR, '/etc/expressapp-operator/metrics-cert');
      assert.equal(vars.METRICS_AUTH_CACHE_SECONDS, '30');
      assert.deepEqual(
        mounts?.map((m) => m.mountPath),
        ['/etc/expressapp-operator/metrics-cert'],
      );
      const volumes = (one(objs, 'Deployment').spec as { template: { spec: { volumes?: unknown[] } } })
        .template.spec.volumes;
      assert.deepEqual(volumes, [{ name: 'metrics-cert', secret: { secretName: 'operator-metrics-tls' } }]);
      assert.deepEqual(one(objs, 'ServiceMonitor').spec!.endpoints![0]!.tlsConfig, {
        serverName: 'expressapp-operator-metrics.expressapp-system.svc',
        ca: { secret: { name: 'operator-metrics-tls', key: 'ca.crt' } },
      });
    });
    it('is refused with a readable message when misspelt', () => {
      assert.throws(
        () => helmTemplate(helm, ['--set=metrics.secure.enabeld=true']),
        (e: { stderr?: string }) => /enabeld/.test(String(e.stderr)),
      );
    });
  });
}

describe('kubeconform -strict accepts every ServiceMonitor rendered here', () => {
  it('plain, with every option, secure with tlsConfig', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'operator-sm-'));
    const renders = [
      OPTIONS,
      SECURE,
      [...OPTIONS, ...SECURE, '--set-json=metrics.serviceMonitor.tlsConfig={"serverName":"x"}'],
    ];
    renders.forEach((args, i) =>
      fs.writeFileSync(
        path.join(dir, `${i}.yaml`),
        helmTemplate(helms[1]!, [...args, '--show-only', 'templates/servicemonitor.yaml']),
      ),
    );
    const out = execFileSync(
      tool('KUBECONFORM', 'kubeconform'),
      [
        '-strict',
        '-summary',
        '-schema-location',
        `${repo}/hack/schemas/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`,
        dir,
      ],
      { encoding: 'utf8' },
    );
    assert.match(out, /Valid: 3, Invalid: 0, Errors: 0, Skipped: 0/);
  });
});

describe('the kustomize manifests say what the chart says', () => {
  const defaults = parse(helmTemplate(helms[1]!, ['--set=metrics.serviceMonitor.enabled=true']));
  it("overlays/prometheus scrapes as the chart's default ServiceMonitor", () => {
    const overlay = one(kustomize(path.join(repo, 'manifests/overlays/prometheus')), 'ServiceMonitor');
    assert.deepEqual(overlay.spec!.endpoints, one(defaults, 'ServiceMonitor').spec!.endpoints);
  });
  it('components/secure-metrics over overlays/prometheus scrapes as the chart with metrics.secure', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secure-kustomization-'));
    const rel = (p: string) => path.relative(dir, path.join(repo, p));
    fs.writeFileSync(
      path.join(dir, 'kustomization.yaml'),
      `resources: [${rel('manifests/overlays/prometheus')}]\ncomponents: [${rel('manifests/components/secure-metrics')}]\n`,
    );
    const composed = kustomize(dir);
    const chartSecure = parse(helmTemplate(helms[1]!, SECURE));
    assert.deepEqual(
      one(composed, 'ServiceMonitor').spec!.endpoints,
      one(chartSecure, 'ServiceMonitor').spec!.endpoints,
    );
    for (const [kind, suffix] of [
      ['ClusterRole', '-metrics-auth'],
      ['ClusterRole', '-metrics-reader'],
    ] as const)
      assert.deepEqual(
        one(composed, kind, suffix).rules,
        one(chartSecure, kind, suffix).rules,
        `${kind} *${suffix}`,
      );
    assert.equal(env(composed).vars.METRICS_SECURE, 'true');
  });
});
