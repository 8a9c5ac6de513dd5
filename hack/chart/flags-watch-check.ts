// make chart-flags-watch-check: what featureFlags.watch renders, under Helm 3 and Helm 4. On: a Role
// that reads only ConfigMap <name>-flags, bound to the release's ServiceAccount; FEATURE_FLAGS_CONFIGMAP
// in the service's settings; a ServiceAccount token in the app pods and in no other pod; egress to
// the API server in the NetworkPolicy. Off: none of it. Usage: node hack/chart/flags-watch-check.ts
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const chartDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../chart');
const helms = [process.env.HELM3, process.env.HELM4].filter((h): h is string => !!h);
if (helms.length === 0)
  throw new Error('HELM3 and HELM4 are not set: run through make chart-flags-watch-check');

type Obj = { kind: string; metadata: { name: string }; [k: string]: unknown };
type PodSpec = {
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  volumes?: { name: string; projected?: { sources: Record<string, unknown>[] } }[];
  containers: {
    name: string;
    env?: { name: string }[];
    volumeMounts?: { name: string; mountPath: string }[];
  }[];
};

// A JWT secret given in the values, so the chart renders no JWT hook Jobs: they hold a token and a
// Role of their own for the Secret they create (checked by render-test.ts), which is not what this
// check is about.
const JWT_GIVEN = ['--set', 'jwt.secret=flags-watch-check-secret-of-32-chars!'];

function render(helm: string, args: string[]): Obj[] {
  const out = execFileSync(
    helm,
    ['template', 'orders', chartDir, '--namespace', 'shop', ...JWT_GIVEN, ...args],
    {
      encoding: 'utf8',
    },
  );
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

const find = (objs: Obj[], kind: string, name?: string) =>
  objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

function podSpecs(objs: Obj[]): { owner: string; spec: PodSpec }[] {
  return objs.flatMap((o) => {
    if (o.kind === 'Pod') return [{ owner: `Pod/${o.metadata.name}`, spec: o.spec as PodSpec }];
    const template = (o.spec as { template?: { spec: PodSpec } } | undefined)?.template;
    return template ? [{ owner: `${o.kind}/${o.metadata.name}`, spec: template.spec }] : [];
  });
}
const mountsToken = (spec: PodSpec) =>
  spec.automountServiceAccountToken !== false ||
  spec.containers.some((c) =>
    (c.volumeMounts ?? []).some((m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount'),
  );

const problems: string[] = [];
const expect = (ok: boolean, what: string) => {
  if (!ok) problems.push(what);
};

for (const helm of helms) {
  const label = path.basename(helm);
  const on = render(helm, ['--set', 'networkPolicy.enabled=true']);
  const roles = find(on, 'Role');
  expect(roles.length === 1, `${label}: one Role when featureFlags.watch is on (got ${roles.length})`);
  const rules = (roles[0]?.rules ?? []) as Record<string, string[]>[];
  expect(
    JSON.stringify(rules) ===
      JSON.stringify([
        {
          apiGroups: [''],
          resources: ['configmaps'],
          resourceNames: ['orders-flags'],
          verbs: ['get', 'list', 'watch'],
        },
      ]),
    `${label}: the Role reads ConfigMap orders-flags and nothing else (got ${JSON.stringify(rules)})`,
  );
  const binding = find(on, 'RoleBinding')[0] as
    | (Obj & { roleRef: { name: string }; subjects: { kind: string; name: string; namespace: string }[] })
    | undefined;
  expect(
    binding?.roleRef.name === roles[0]?.metadata.name &&
      JSON.stringify(binding?.subjects) ===
        JSON.stringify([{ kind: 'ServiceAccount', name: 'orders', namespace: 'shop' }]),
    `${label}: the RoleBinding binds the Role to ServiceAccount shop/orders (got ${JSON.stringify(binding?.subjects)})`,
  );
  const config = find(on, 'ConfigMap', 'orders-config')[0] as
    (Obj & { data: Record<string, string> }) | undefined;
  expect(
    config?.data.FEATURE_FLAGS_CONFIGMAP === 'orders-flags',
    `${label}: FEATURE_FLAGS_CONFIGMAP=orders-flags in orders-config (got ${config?.data.FEATURE_FLAGS_CONFIGMAP})`,
  );
  for (const { owner, spec } of podSpecs(on)) {
    // The service refuses to start when it is told a flags ConfigMap without its namespace.
    for (const c of spec.containers) {
      const names = (c.env ?? []).map((e) => e.name);
      expect(
        !names.includes('FEATURE_FLAGS_CONFIGMAP') || names.includes('POD_NAMESPACE'),
        `${label}: ${owner} container ${c.name} gets POD_NAMESPACE with FEATURE_FLAGS_CONFIGMAP`,
      );
    }
    const isApp = owner === 'Deployment/orders';
    expect(mountsToken(spec) === isApp, `${label}: ${owner} ${isApp ? 'mounts' : 'must not mount'} a token`);
    if (isApp) {
      const sources = spec.volumes?.find((v) => v.name === 'kube-api-access')?.projected?.sources ?? [];
      expect(
        sources.some((s) => 'serviceAccountToken' in s),
        `${label}: the app pods' token is a projected ServiceAccount token`,
      );
    }
  }
  const policy = find(on, 'NetworkPolicy')[0] as (Obj & { spec: { egress: unknown[] } }) | undefined;
  expect(
    JSON.stringify(policy?.spec.egress ?? []).includes('{"port":6443,"protocol":"TCP"}'),
    `${label}: the NetworkPolicy lets the pods reach the API server`,
  );

  const off = render(helm, ['--set', 'featureFlags.watch=false', '--set', 'networkPolicy.enabled=true']);
  expect(
    find(off, 'Role').length + find(off, 'RoleBinding').length === 0,
    `${label}: no RBAC when watch is off`,
  );
  const offConfig = find(off, 'ConfigMap', 'orders-config')[0] as
    (Obj & { data: Record<string, string> }) | undefined;
  expect(
    offConfig?.data.FEATURE_FLAGS_CONFIGMAP === undefined,
    `${label}: no FEATURE_FLAGS_CONFIGMAP when off`,
  );
  for (const { owner, spec } of podSpecs(off))
    expect(!mountsToken(spec), `${label}: ${owner} mounts no token when watch is off`);
  const offPolicy = find(off, 'NetworkPolicy')[0] as (Obj & { spec: { egress: unknown[] } }) | undefined;
  expect(
    !JSON.stringify(offPolicy?.spec.egress ?? []).includes('6443'),
    `${label}: no API server egress when watch is off`,
  );
}

if (problems.length > 0) {
  console.error(`featureFlags.watch renders wrongly:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `[chart-flags-watch] ${helms.map((h) => path.basename(h)).join(', ')}: Role for orders-flags only, token in the app pods only, API egress; none of it with watch off`,
);
