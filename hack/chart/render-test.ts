// What `helm template` renders, asserted object by object under Helm 3 and Helm 4: where each
// extension point lands, the migration Job's own settings, a JWT secret that never changes between
// renders, the Gateway API route, the ServiceMonitor's options, the alerts' labels and runbooks,
// and the chart as a dependency of another chart.
// Run by `make chart-render-test` (node --test); HELM3 and HELM4 name the binaries, RENDER_TEST_CHART
// may point at another copy of the chart (to show that a test fails on a broken chart).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const chartDir = process.env.RENDER_TEST_CHART ?? path.join(repoRoot, 'chart');
const ciValues = (name: string) => path.join(chartDir, 'ci', `${name}.yaml`);
const cacheBin = path.join(
  process.env.ESP_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'express-sqlize-platform'),
  'bin',
);
const helms = [
  process.env.HELM3 ?? path.join(cacheBin, 'helm3'),
  process.env.HELM4 ?? path.join(cacheBin, 'helm4'),
];

type Obj = {
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
};
type Container = {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  volumeMounts?: { name: string; mountPath: string }[];
  resources?: unknown;
  args?: string[];
};
type PodSpec = {
  serviceAccountName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  initContainers?: Container[];
  containers: Container[];
  volumes?: { name: string }[];
};
type PodTemplate = {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
};

function helmTemplate(helm: string, args: string[]): string {
  return execFileSync(helm, ['template', 'orders', chartDir, '--namespace', 'shop', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function render(helm: string, args: string[] = []): Obj[] {
  return parseAllDocuments(helmTemplate(helm, args))
    .map((doc) => doc.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

function find(objs: Obj[], kind: string, name: string): Obj {
  const found = objs.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `no ${kind} ${name} in: ${objs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

const podTemplate = (o: Obj): PodTemplate => (o.spec as { template: PodTemplate }).template;
const podSpec = (o: Obj): PodSpec =>
  o.kind === 'Pod' ? (o.spec as unknown as PodSpec) : podTemplate(o).spec;
const container = (spec: PodSpec, name: string): Container => {
  const found = spec.containers.find((c) => c.name === name);
  assert.ok(found, `no container ${name}`);
  return found;
};
const envValue = (c: Container, name: string) => c.env?.find((e) => e.name === name);

for (const helm of helms) {
  const major = path.basename(helm);

  describe(`${major}: extension points (ci/extension-points.yaml)`, () => {
    const objs = render(helm, ['-f', ciValues('extension-points')]);
    const deployment = find(objs, 'Deployment', 'orders-api');
    const pod = podTemplate(deployment);
    const app = container(pod.spec, 'app');
    const migrateJob = find(objs, 'Job', 'orders-api-migrate');
    const migrate = container(podSpec(migrateJob), 'migrate');

    it('commonLabels and commonAnnotations reach every object and every pod', () => {
      for (const o of objs) {
        assert.equal(o.metadata.labels?.team, 'orders', `${o.kind}/${o.metadata.name} lacks commonLabels`);
        assert.equal(
          o.metadata.annotations?.['example.com/owner'],
          'orders-team',
          `${o.kind}/${o.metadata.name}`,
        );
      }
      const pods = objs.filter((o) => ['Deployment', 'Job'].includes(o.kind)).map(podTemplate);
      pods.push(find(objs, 'Pod', 'orders-api-test-http') as unknown as PodTemplate);
      for (const p of pods) {
        assert.equal(p.metadata.labels?.team, 'orders');
        assert.equal(p.metadata.annotations?.['example.com/owner'], 'orders-team');
      }
    });

    it('global.imageRegistry wins over image.registry in every container the chart runs', () => {
      const images = objs
        .filter((o) => ['Deployment', 'Job', 'Pod'].includes(o.kind))
        .flatMap((o) => podSpec(o).containers.filter((c) => !['log-shipper'].includes(c.name)))
        .map((c) => c.image);
      assert.ok(images.length >= 4);
      assert.deepEqual(new Set(images), new Set(['mirror.example.com/express-sqlize/service:0.1.0']));
      const own = render(helm, ['-f', ciValues('extension-points'), '--set', 'global.imageRegistry=']);
      assert.equal(
        container(podSpec(find(own, 'Deployment', 'orders-api')), 'app').image,
        'registry.example.com/express-sqlize/service:0.1.0',
      );
    });

    it('nameOverride renames app.kubernetes.io/name; fullnameOverride the objects', () => {
      assert.deepEqual((deployment.spec as { selector: unknown }).selector, {
        matchLabels: { 'app.kubernetes.io/name': 'orders', 'app.kubernetes.io/instance': 'orders' },
      });
      assert.ok(
        objs
          .filter((o) => o.kind !== 'ServiceAccount')
          .every((o) => o.metadata.name.startsWith('orders-api')),
      );
    });

    it('podLabels and podAnnotations land on the pods, not on the Deployment', () => {
      assert.equal(pod.metadata.labels?.['example.com/tier'], 'api');
      assert.equal(pod.metadata.annotations?.['example.com/scrape-logs'], 'true');
      assert.equal(deployment.metadata.labels?.['example.com/tier'], undefined);
      // The chart's own rollout checksums stay beside them.
      assert.match(pod.metadata.annotations?.['checksum/config'] ?? '', /^[0-9a-f]{64}$/);
    });

    it('extraEnvVars, extraEnvVarsCM, extraEnvVarsSecret reach the app and the migration, templated', () => {
      for (const c of [app, migrate]) {
        assert.equal(envValue(c, 'NODE_EXTRA_CA_CERTS')?.value, '/etc/ssl/db/ca.crt', c.name);
        assert.equal(envValue(c, 'RELEASE_FULLNAME')?.value, 'orders-api', c.name);
        assert.deepEqual(
          c.envFrom?.filter(
            (e) => e.configMapRef?.name === 'orders-api-env' || e.secretRef?.name === 'orders-env-secret',
          ).length,
          2,
          c.name,
        );
      }
    });

    it('extraVolumes and extraVolumeMounts reach the app and the migration', () => {
      for (const [spec, c] of [
        [pod.spec, app],
        [podSpec(migrateJob), migrate],
      ] as const) {
        assert.ok(
          spec.volumes?.some((v) => v.name === 'db-ca'),
          c.name,
        );
        assert.ok(
          c.volumeMounts?.some((m) => m.name === 'db-ca' && m.mountPath === '/etc/ssl/db'),
          c.name,
        );
      }
    });

    it('initContainers and sidecars join the app pod, templated', () => {
      assert.deepEqual(
        pod.spec.initContainers?.map((c) => c.name),
        ['wait-for-db'],
      );
      assert.deepEqual(
        pod.spec.containers.map((c) => c.name),
        ['app', 'log-shipper'],
      );
      assert.deepEqual(container(pod.spec, 'log-shipper').args, [
        '--config',
        '/fluent-bit/etc/orders-api.conf',
      ]);
    });

    it('the migration Job has its own annotations, labels, resources, scheduling and ServiceAccount', () => {
      assert.equal(migrateJob.metadata.annotations?.['argocd.argoproj.io/sync-wave'], '-1');
      assert.equal(migrateJob.metadata.annotations?.['helm.sh/hook'], 'pre-install,pre-upgrade');
      assert.equal(migrateJob.metadata.labels?.['example.com/job-kind'], 'migration');
      const mpod = podTemplate(migrateJob);
      assert.equal(mpod.metadata.annotations?.['sidecar.istio.io/inject'], 'false');
      assert.equal(mpod.metadata.labels?.['azure.workload.identity/use'], 'true');
      assert.equal(pod.metadata.annotations?.['sidecar.istio.io/inject'], undefined);
      assert.deepEqual(migrate.resources, {
        requests: { cpu: '100m', memory: '192Mi' },
        limits: { memory: '320Mi' },
      });
      assert.deepEqual(mpod.spec.nodeSelector, { 'example.com/pool': 'batch' });
      assert.deepEqual(mpod.spec.tolerations, [
        { key: 'example.com/batch', operator: 'Exists', effect: 'NoSchedule' },
      ]);
      assert.equal(mpod.spec.serviceAccountName, 'orders-api-migrate');
      const sa = find(objs, 'ServiceAccount', 'orders-api-migrate');
      assert.equal(sa.metadata.annotations?.['helm.sh/hook'], 'pre-install,pre-upgrade');
      assert.equal(
        sa.metadata.annotations?.['azure.workload.identity/client-id'],
        '00000000-0000-0000-0000-000000000000',
      );
      // Hooks run in weight order: the ServiceAccount exists before the Job that uses it.
      assert.ok(
        Number(sa.metadata.annotations?.['helm.sh/hook-weight']) <
          Number(migrateJob.metadata.annotations?.['helm.sh/hook-weight']),
      );
    });

    it('the migration pod falls back to the app pods’ nodeSelector and tolerations', () => {
      const other = render(helm, ['-f', ciValues('everything-on')]);
      const mpod = podTemplate(find(other, 'Job', 'orders-api-migrate'));
      const apod = podTemplate(find(other, 'Deployment', 'orders-api'));
      assert.deepEqual(mpod.spec.nodeSelector, apod.spec.nodeSelector);
      assert.deepEqual(mpod.spec.tolerations, apod.spec.tolerations);
      assert.equal(mpod.spec.serviceAccountName, 'default');
    });

    it('httpRoute sends its rules to the Service from the Gateways it names', () => {
      const route = find(objs, 'HTTPRoute', 'orders-api');
      assert.deepEqual(route.spec, {
        parentRefs: [{ name: 'public', namespace: 'gateways', sectionName: 'https' }],
        hostnames: ['orders.example.com'],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/api' } }],
            timeouts: { request: '30s' },
            backendRefs: [{ name: 'orders-api', port: 80, weight: 1 }],
          },
        ],
      });
      assert.equal(route.metadata.annotations?.['example.com/route-owner'], 'orders');
    });

    it('the ServiceMonitor takes namespace, labels, jobLabel, targetLabels and both relabelings', () => {
      const sm = find(objs, 'ServiceMonitor', 'orders-api');
      assert.equal(sm.metadata.namespace, 'monitoring');
      assert.equal(sm.metadata.labels?.release, 'kube-prometheus-stack');
      const spec = sm.spec as {
        jobLabel: string;
        targetLabels: string[];
        namespaceSelector: unknown;
        endpoints: { relabelings: unknown[]; metricRelabelings: unknown[] }[];
      };
      assert.equal(spec.jobLabel, 'app.kubernetes.io/instance');
      assert.deepEqual(spec.targetLabels, ['team']);
      // Still scrapes the release's namespace from wherever it lives.
      assert.deepEqual(spec.namespaceSelector, { matchNames: ['shop'] });
      assert.deepEqual(spec.endpoints[0]?.relabelings, [
        { sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' },
      ]);
      assert.deepEqual(spec.endpoints[0]?.metricRelabelings, [
        { sourceLabels: ['__name__'], regex: 'esp_nodejs_.*', action: 'drop' },
      ]);
    });
  });

  describe(`${major}: a JWT secret that GitOps can sync`, () => {
    it('two renders of every ci/ values file are identical', () => {
      for (const file of fs.readdirSync(path.join(chartDir, 'ci'))) {
        const args = ['-f', path.join(chartDir, 'ci', file)];
        assert.equal(
          helmTemplate(helm, args),
          helmTemplate(helm, args),
          `ci/${file} renders differently twice`,
        );
      }
    });

    it('without a given secret, a hook Job creates <name>-jwt and no rendered object holds a JWT_SECRET', () => {
      const objs = render(helm, ['--set', 'database.password=pw']);
      for (const o of objs.filter((x) => x.kind === 'Secret'))
        assert.equal(o.data?.JWT_SECRET, undefined, o.metadata.name);
      const app = container(podSpec(find(objs, 'Deployment', 'orders')), 'app');
      assert.deepEqual(envValue(app, 'JWT_SECRET')?.valueFrom?.secretKeyRef, {
        name: 'orders-jwt',
        key: 'JWT_SECRET',
      });
      const create = find(objs, 'Job', 'orders-jwt-create');
      const remove = find(objs, 'Job', 'orders-jwt-delete');
      assert.equal(create.metadata.annotations?.['helm.sh/hook'], 'pre-install,pre-upgrade');
      assert.equal(remove.metadata.annotations?.['helm.sh/hook'], 'post-delete');
      // Created before the migration Job, which needs the secret too.
      const migrate = find(objs, 'Job', 'orders-migrate');
      assert.ok(
        Number(create.metadata.annotations?.['helm.sh/hook-weight']) <
          Number(migrate.metadata.annotations?.['helm.sh/hook-weight']),
      );
      const job = container(podSpec(create), 'jwt-secret');
      assert.equal(envValue(job, 'MODE')?.value, 'create');
      assert.equal(envValue(job, 'SECRET_NAME')?.value, 'orders-jwt');
      assert.equal(
        (job as { command?: string[] }).command?.[3],
        fs.readFileSync(path.join(chartDir, 'files', 'jwt-secret.ts'), 'utf8'),
      );
      const role = find(objs, 'Role', 'orders-jwt') as Obj & {
        rules: { verbs: string[]; resourceNames?: string[] }[];
      };
      assert.deepEqual(role.rules, [
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: ['orders-jwt'], verbs: ['delete'] },
      ]);
      // Not the app's selector labels, so the app's NetworkPolicy leaves the API server reachable.
      assert.notEqual(podTemplate(create).metadata.labels?.['app.kubernetes.io/name'], 'express-sqlize');
    });

    it('a given secret or existingSecret renders no hook Job', () => {
      for (const set of [
        'jwt.secret=a-signing-secret-of-at-least-32-characters',
        'jwt.existingSecret=orders-jwt-managed',
      ]) {
        const objs = render(helm, ['--set', set]);
        assert.equal(objs.filter((o) => o.metadata.name.startsWith('orders-jwt-')).length, 0, set);
      }
    });
  });

  describe(`${major}: PrometheusRule (ci/everything-on.yaml)`, () => {
    type Rule = {
      alert: string;
      expr: string;
      labels: Record<string, string>;
      annotations: Record<string, string>;
    };
    const rulesOf = (objs: Obj[]) =>
      (find(objs, 'PrometheusRule', 'orders-api').spec as { groups: { rules: Rule[] }[] }).groups.flatMap(
        (g) => g.rules,
      );
    const rules = rulesOf(render(helm, ['-f', ciValues('everything-on')]));
    const readme = fs.readFileSync(path.join(chartDir, 'README.md'), 'utf8');
    // GitHub's heading anchors: lower case, spaces to hyphens, punctuation dropped.
    const anchors = new Set(
      [...readme.matchAll(/^#+ (.+)$/gm)].map((m) =>
        (m[1] ?? '')
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      ),
    );

    it('renders all six alerts, each with namespace, service, release and severity labels', () => {
      assert.equal(rules.length, 6);
      for (const r of rules) {
        assert.deepEqual(
          { namespace: r.labels.namespace, service: r.labels.service, release: r.labels.release },
          { namespace: 'shop', service: 'orders-api', release: 'orders' },
          r.alert,
        );
        assert.match(r.labels.severity ?? '', /^(critical|warning)$/, r.alert);
      }
    });

    it('every runbook_url points at a section of chart/README.md', () => {
      for (const r of rules) {
        const url = r.annotations.runbook_url ?? '';
        assert.ok(
          url.startsWith(
            'https://github.com/express-sqlize/express-sqlize-platform/blob/main/chart/README.md#',
          ),
          url,
        );
        assert.ok(
          anchors.has(url.split('#')[1] ?? ''),
          `${r.alert}: README.md has no section #${url.split('#')[1]}`,
        );
      }
    });

    it('each alert has its own switch and threshold', () => {
      const changed = rulesOf(
        render(helm, [
          '-f',
          ciValues('everything-on'),
          '--set',
          'metrics.prometheusRule.alerts.highLatency.enabled=false',
          // --set keeps 0.2 a string; the schema wants a number.
          '--set-json',
          'metrics.prometheusRule.alerts.highErrorRate.threshold=0.2',
          '--set',
          'metrics.prometheusRule.alertLabels.team=orders',
        ]),
      );
      assert.deepEqual(
        changed.map((r) => r.alert),
        rules.map((r) => r.alert).filter((a) => a !== 'ExpressSqlizeHighLatency'),
      );
      assert.match(changed.find((r) => r.alert === 'ExpressSqlizeHighErrorRate')?.expr ?? '', />\s*0\.2\s*$/);
      assert.ok(changed.every((r) => r.labels.team === 'orders'));
    });
  });

  describe(`${major}: as a dependency of another chart`, () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'esp-parent-'));
    fs.mkdirSync(path.join(parent, 'charts'));
    fs.cpSync(chartDir, path.join(parent, 'charts', 'express-sqlize'), { recursive: true });
    fs.writeFileSync(
      path.join(parent, 'Chart.yaml'),
      [
        'apiVersion: v2',
        'name: shop',
        'version: 1.0.0',
        'dependencies:',
        '  - name: express-sqlize',
        '    version: 0.1.0',
        '    alias: orders',
        '    condition: orders.enabled',
        '',
      ].join('\n'),
    );
    const renderParent = (set: string) =>
      spawnSync(helm, ['template', 'shop', parent, '--namespace', 'shop', '--set', set], {
        encoding: 'utf8',
      });

    it('condition: orders.enabled switches it (the schema accepts `enabled`), global.imageRegistry reaches it', () => {
      const on = renderParent('orders.enabled=true,global.imageRegistry=mirror.example.com');
      assert.equal(on.status, 0, on.stderr);
      const objs = parseAllDocuments(on.stdout).map((d) => d.toJS() as Obj);
      assert.equal(
        container(podSpec(find(objs, 'Deployment', 'shop')), 'app').image,
        'mirror.example.com/express-sqlize/service:0.1.0',
      );
      const off = renderParent('orders.enabled=false');
      assert.equal(off.status, 0, off.stderr);
      assert.doesNotMatch(off.stdout, /kind: Deployment/);
      const typo = renderParent('orders.enabeld=true');
      assert.notEqual(typo.status, 0);
      assert.match(typo.stderr, /additional properties 'enabeld' not allowed/);
    });
  });
}
