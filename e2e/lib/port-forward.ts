// `kubectl port-forward` to one pod, so a test reaches each replica on its own (the Service and the
// Ingress pick one for it) without a route from this machine to the pod network.
import { spawn } from 'node:child_process';
import { toolsEnv } from './helm.js';

export interface PortForward {
  /** http://127.0.0.1:<local port> */
  url: string;
  close(): void;
}

export function portForward(
  namespace: string,
  pod: string,
  port: number,
  timeoutMs = 30_000,
): Promise<PortForward> {
  const child = spawn(
    'kubectl',
    ['port-forward', '-n', namespace, `pod/${pod}`, `:${port}`, '--address', '127.0.0.1'],
    { env: toolsEnv, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(`no forwarding after ${timeoutMs} ms`), timeoutMs);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill();
      reject(new Error(`kubectl port-forward ${namespace}/${pod}: ${why}: ${output.trim()}`));
    };
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const local = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output)?.[1];
      if (!local) return;
      clearTimeout(timer);
      child.stdout.off('data', read);
      // Keep draining, or a full pipe would stall kubectl.
      child.stdout.resume();
      resolve({ url: `http://127.0.0.1:${local}`, close: () => child.kill() });
    };
    child.stdout.on('data', read);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => fail(`exited with ${code}`));
  });
}
