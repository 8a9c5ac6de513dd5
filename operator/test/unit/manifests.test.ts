import { describe, it, expect } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { buildCrd } from '../../src/api/v1alpha1/crd.js';

const REPO = resolve(import.meta.dirname, '../../..');
interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
}
interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  rules?: Rule[];
}
const load = (file: string): Obj[] =>
  parseAllDocuments(readFileSync(resolve(REPO, file), 'utf8')).map((d) => d.toJS() as Obj);
const find = (file: string, kind: string, name: string) =>
  load(file).find((o) => o.kind === kind && o.metadata.name === name);
const canonical = (rules: Rule[] = []) => rules.map((r) => JSON.stringify(r)).sort();

describe('install manifests', () => {
  it('lists ExpressApps in the categories all and platform', () => {
    expect((buildCrd().spec as { names: { categories?: string[] } }).names.categories).toEqual([
      'all',
      'platform',
    ]);
  });

  it('aggregates expressapp-editor into admin and edit, expressapp-viewer into view', () => {
    const editor = find('manifests/rbac/expressapp_editor_role.yaml', 'ClusterRole', 'expressapp-editor')!;
    const viewer = find('manifests/rbac/expressapp_viewer_role.yaml', 'ClusterRole', 'expressapp-viewer')!;
    expect(editor.metadata.labels).toMatchObject({
      'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
      'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
    });
    expect(editor.metadata.labels).not.toHaveProperty('rbac.authorization.k8s.io/aggregate-to-view');
    expect(viewer.metadata.labels).toMatchObject({ 'rbac.authorization.k8s.io/aggregate-to-view': 'true' });
    const writes = (viewer.rules ?? [])
      .flatMap((r) => r.verbs ?? [])
      .filter((v) => !['get', 'list', 'watch'].includes(v));
    expect(writes).toEqual([]);
    expect(readFileSync(resolve(REPO, 'manifests/rbac/kustomization.yaml'), 'utf8')).toMatch(
      /expressapp_editor_role\.yaml[\s\S]*expressapp_viewer_role\.yaml/,
    );
  });

  it('gives the namespaced overlay the controller rules as a Role, and no cluster-wide list or watch', () => {
    const cluster = find('manifests/rbac/role.yaml', 'ClusterRole', 'expressapp-operator')!;
    const overlay = 'manifests/overlays/namespaced';
    const role = find(`${overlay}/watched_namespace_role.yaml`, 'Role', 'expressapp-operator')!;
    expect(canonical(role.rules)).toEqual(
      canonical(cluster.rules?.filter((r) => !r.resources?.includes('namespaces'))),
    );
    const reader = find(
      `${overlay}/namespace_reader_role.yaml`,
      'ClusterRole',
      'expressapp-operator-namespace-reader',
    )!;
    expect(reader.rules).toEqual([{ apiGroups: [''], resources: ['namespaces'], verbs: ['get'] }]);
    const kustomization = readFileSync(resolve(REPO, overlay, 'kustomization.yaml'), 'utf8');
    expect(kustomization).toMatch(
      /\$patch: delete\s+apiVersion: rbac.authorization.k8s.io\/v1\s+kind: ClusterRole\s/,
    );
    expect(kustomization).toMatch(/name: WATCH_NAMESPACES\s+value: shop/);
    expect(role.metadata.namespace).toBe('shop');
  });

  it('cites in docs/contract.md only files that exist', () => {
    const file = resolve(REPO, 'docs/contract.md');
    const text = readFileSync(file, 'utf8');
    const cited = [
      ...[...text.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)].map((m) => m[1]!),
      // A path in backquotes (with a folder, so a key such as `flags.json` does not count).
      ...[...text.matchAll(/`((?:\.\.?\/)*[\w.-]+(?:\/[\w.-]+)+\.(?:md|ts|ya?ml|json|sh))`/g)].map(
        (m) => m[1]!,
      ),
    ].filter((p) => !/^[a-z]+:/.test(p));
    // Relative to the page, or to the repository root; either way inside the repository.
    const exists = (p: string) =>
      [resolve(dirname(file), p), resolve(REPO, p)].some((f) => f.startsWith(`${REPO}/`) && existsSync(f));
    expect(cited.filter((p) => !exists(p))).toEqual([]);
  });
});
