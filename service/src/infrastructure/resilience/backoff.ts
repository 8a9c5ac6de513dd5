// Exponential backoff from baseMs, capped, with up to 20% jitter so replicas do not retry in step.
export function retryDelay(attempt: number, capMs: number, baseMs = 50): number {
  const base = Math.min(baseMs * 2 ** Math.min(attempt - 1, 16), capMs);
  return Math.round(base + Math.random() * base * 0.2);
}
