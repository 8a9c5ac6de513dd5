// Requests through the kind cluster's Ingress controller (Traefik on the node port kind.yaml maps to
// 127.0.0.1:KIND_HTTP_PORT), as an API client reaches the service, and steady traffic that counts
// every request a roll fails.
import { request } from 'node:http';

const HTTP_PORT = Number(process.env.KIND_HTTP_PORT ?? 8080);

/** GET through the Ingress with `host` as the Host header the rule matches; resolves to the status. */
export function ingressGet(host: string, path: string, timeoutMs = 5000): Promise<number> {
  return new Promise((res, rej) => {
    const req = request(
      { host: '127.0.0.1', port: HTTP_PORT, path, headers: { host }, timeout: timeoutMs },
      (response) => {
        response.resume();
        res(response.statusCode ?? 0);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', rej);
    req.end();
  });
}

export interface TrafficResult {
  sent: number;
  /** Every request that did not get 200, with what it got instead. */
  failures: string[];
}

/**
 * One client sending GET `path` every `gapMs` until stopped. `/live` touches no dependency, so a
 * failure can only be the cluster's: a pod taken out of the endpoints too late or too early.
 */
function steadyTraffic(host: string, path = '/live', gapMs = 50): { stop(): Promise<TrafficResult> } {
  const result: TrafficResult = { sent: 0, failures: [] };
  let running = true;
  const loop = (async () => {
    while (running) {
      result.sent += 1;
      const status = await ingressGet(host, path).catch((error: unknown) => String(error));
      if (status !== 200) result.failures.push(`request ${result.sent}: ${status}`);
      await new Promise((r) => setTimeout(r, gapMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return result;
    },
  };
}

/** Runs `action` (a roll, a failover) while steady traffic flows, and returns what the traffic met. */
export async function underSteadyTraffic(
  host: string,
  action: () => Promise<unknown>,
): Promise<TrafficResult> {
  const traffic = steadyTraffic(host);
  const failed = await action().then(
    () => undefined,
    (error: unknown) => ({ error }),
  );
  // Stopped on failure too, so no client outlives the test.
  const result = await traffic.stop();
  if (failed) throw failed.error;
  return result;
}

/**
 * Bounded load: `concurrency` clients sending GET `path` back to back for `durationMs`, to raise the
 * pods' CPU. Returns how many requests got 200.
 */
export async function load(
  host: string,
  path: string,
  concurrency: number,
  durationMs: number,
): Promise<number> {
  const until = Date.now() + durationMs;
  let ok = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        if ((await ingressGet(host, path).catch(() => 0)) === 200) ok += 1;
      }
    }),
  );
  return ok;
}
