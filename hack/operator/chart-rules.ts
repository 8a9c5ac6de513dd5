// Fails when the operator chart's RBAC rules differ from manifests/ (the kustomize install): the
// ClusterRole of `helm template` (stdin) against manifests/rbac/role.yaml, and each rendered Role of
// watched namespaces against the same rules less the namespaces rule. Usage:
//   helm template x operator/chart [--set watchNamespaces={a}] | node hack/operator/chart-rules.ts
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}
interface Obj {
  kind?: string;
  metadata?: { name?: string };
  rules?: Rule[];
}

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const docs = (text: string): Obj[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
const canonical = (rules: Rule[] = []): string[] => rules.map((r) => JSON.stringify(r)).sort();
const isNamespaceRule = (r: Rule) => r.resources?.includes('namespaces') ?? false;

const manifestRole = docs(fs.readFileSync(path.join(repo, 'manifests/rbac/role.yaml'), 'utf8')).find(
  (o) => o.kind === 'ClusterRole',
)!;
const wanted = canonical(manifestRole.rules);
const rendered = docs(fs.readFileSync(0, 'utf8'));
const controllerRoles = rendered.filter(
  (o) =>
    (o.kind === 'ClusterRole' || o.kind === 'Role') &&
    // The secure metrics roles are compared with manifests/components/secure-metrics by chart-render-test.ts.
    !/(leader-election|namespace-reader|metrics-auth|metrics-reader)$/.test(o.metadata?.name ?? '') &&
    !/^expressapp-(editor|viewer)$/.test(o.metadata?.name ?? ''),
);
if (controllerRoles.length === 0) throw new Error('helm template rendered no controller ClusterRole or Role');
const problems: string[] = [];
for (const role of controllerRoles) {
  const expect =
    role.kind === 'Role' ? canonical(manifestRole.rules?.filter((r) => !isNamespaceRule(r))) : wanted;
  if (JSON.stringify(canonical(role.rules)) !== JSON.stringify(expect))
    problems.push(`${role.kind} ${role.metadata?.name}: rules differ from manifests/rbac/role.yaml`);
}
if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`${controllerRoles.length} rendered role(s) match manifests/rbac/role.yaml\n`);
