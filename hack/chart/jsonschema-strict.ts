// Turns Kubernetes OpenAPI schemas into JSON schemas that kubeconform -strict can use: unknown
// fields are refused (additionalProperties: false where the API lists its properties), and the
// Kubernetes extensions JSON schema does not know (int-or-string, nullable) become plain JSON schema.
export type Schema = { [key: string]: unknown };

const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

export function strictify(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictify);
  if (!isObject(node)) return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) out[key] = strictify(value);
  if (out['x-kubernetes-int-or-string'] === true || out['format'] === 'int-or-string') {
    delete out['type'];
    delete out['format'];
    out['anyOf'] = [{ type: 'string' }, { type: 'integer' }];
  }
  if (out['nullable'] === true && typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
  const open = out['x-kubernetes-preserve-unknown-fields'] === true;
  if (isObject(out['properties']) && out['additionalProperties'] === undefined && !open) {
    out['additionalProperties'] = false;
  }
  return out;
}
