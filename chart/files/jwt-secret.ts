// Run by the chart's JWT hook Jobs with the service image's node (node --input-type=module-typescript):
// `create` makes Secret SECRET_NAME with a random JWT_SECRET unless it already exists, `delete`
// removes it. Only the Kubernetes API is called, with the pod's own ServiceAccount token, so the
// image needs no kubectl. Environment: MODE, SECRET_NAME, POD_NAMESPACE, SECRET_LABELS and
// SECRET_ANNOTATIONS (JSON objects).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

const accountDir = '/var/run/secrets/kubernetes.io/serviceaccount';
const { MODE, SECRET_NAME, POD_NAMESPACE, KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT } = process.env;
if (!SECRET_NAME || !POD_NAMESPACE || !KUBERNETES_SERVICE_HOST || (MODE !== 'create' && MODE !== 'delete')) {
  console.error(
    'jwt-secret: needs MODE (create|delete), SECRET_NAME, POD_NAMESPACE and an in-cluster API server',
  );
  process.exit(2);
}
const token = readFileSync(`${accountDir}/token`, 'utf8').trim();
const ca = readFileSync(`${accountDir}/ca.crt`);
const secretsPath = `/api/v1/namespaces/${encodeURIComponent(POD_NAMESPACE)}/secrets`;

type Answer = { status: number; body: string };

function call(method: string, path: string, body?: object): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: KUBERNETES_SERVICE_HOST,
        port: KUBERNETES_SERVICE_PORT ?? '443',
        method,
        path,
        ca,
        timeout: 10_000,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const where = `Secret ${POD_NAMESPACE}/${SECRET_NAME}`;
function fail(action: string, answer: Answer): never {
  console.error(`jwt-secret: ${action} ${where} failed with HTTP ${answer.status}: ${answer.body}`);
  process.exit(1);
}

if (MODE === 'create') {
  // 48 random bytes: 64 base64url characters, well above the service's 32-character minimum.
  const secret = randomBytes(48).toString('base64url');
  const answer = await call('POST', secretsPath, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: SECRET_NAME,
      labels: JSON.parse(process.env.SECRET_LABELS ?? '{}') as Record<string, string>,
      annotations: JSON.parse(process.env.SECRET_ANNOTATIONS ?? '{}') as Record<string, string>,
    },
    type: 'Opaque',
    data: { JWT_SECRET: Buffer.from(secret).toString('base64') },
  });
  if (answer.status === 201) console.log(`jwt-secret: created ${where} with a new random JWT_SECRET`);
  // Create-only, never read or replace: an existing secret keeps every issued token valid.
  else if (answer.status === 409) console.log(`jwt-secret: ${where} exists; kept as it is`);
  else fail('creating', answer);
} else {
  const answer = await call('DELETE', `${secretsPath}/${encodeURIComponent(SECRET_NAME)}`);
  if (answer.status === 200 || answer.status === 202) console.log(`jwt-secret: deleted ${where}`);
  else if (answer.status === 404) console.log(`jwt-secret: ${where} was already gone`);
  else fail('deleting', answer);
}
