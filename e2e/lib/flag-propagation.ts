// How long a feature flag change takes to be served by every replica: each replica's
// GET /api/v1/flags is polled until it shows the wanted flags, and the figure is the time from the
// change to the last replica serving it. Shared by the service's cluster tier, make bench-operator
// and the kind tier (replicas reached through port-forwards or pod addresses). No imports but
// Node's, so a script run with Node's type stripping can load it as is.

export interface ServedFlags {
  flags: Record<string, boolean>;
  revision: string;
  appliedFrom: string;
}

export async function servedFlags(baseUrl: string): Promise<ServedFlags> {
  const res = await fetch(`${baseUrl}/api/v1/flags`, { signal: AbortSignal.timeout(2000) });
  if (res.status !== 200) throw new Error(`GET ${baseUrl}/api/v1/flags: ${res.status}`);
  return (await res.json()) as ServedFlags;
}

const serves = (served: Record<string, boolean>, want: Record<string, boolean>) =>
  Object.entries(want).every(([name, value]) => served[name] === value);

/**
 * Milliseconds from `sinceMs` (a performance.now() reading taken when the change was made) until
 * every replica serves `want`; rejects with what each replica served when `timeoutMs` passes first.
 */
export async function untilEveryReplicaServes(
  baseUrls: string[],
  want: Record<string, boolean>,
  sinceMs: number,
  timeoutMs = 30_000,
  pollMs = 10,
): Promise<number> {
  const last = new Map<string, string>();
  const times = await Promise.all(
    baseUrls.map(async (url) => {
      for (;;) {
        try {
          const served = await servedFlags(url);
          if (serves(served.flags, want)) return performance.now() - sinceMs;
          last.set(url, JSON.stringify(served.flags));
        } catch (err) {
          last.set(url, String(err));
        }
        if (performance.now() - sinceMs > timeoutMs) {
          const seen = [...last].map(([u, s]) => `${u}: ${s}`).join('; ');
          throw new Error(`not every replica served ${JSON.stringify(want)} after ${timeoutMs} ms (${seen})`);
        }
        await new Promise((r) => setTimeout(r, pollMs));
      }
    }),
  );
  return Math.max(...times);
}

/** p50 and max of propagation times, as printed by the tiers and the benchmark. */
export function propagationFigures(ms: number[]): { p50: number; max: number; n: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN, max: sorted.at(-1) ?? NaN, n: ms.length };
}

export const formatPropagation = (label: string, ms: number[]): string => {
  const f = propagationFigures(ms);
  return `${label}: p50 ${f.p50.toFixed(0)} ms, max ${f.max.toFixed(0)} ms over ${f.n} changes`;
};
