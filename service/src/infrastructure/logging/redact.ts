// Removes secrets from log metadata before it is written, whatever the nesting.
const SENSITIVE_KEY = /pass(word)?|secret|token|authorization|cookie|api[-_]?key|hash/i;
export const REDACTED = '[REDACTED]';

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = redactEntry(k, v, depth + 1);
  }
  return out;
}

/** One key and its value as they may be logged; primitives under harmless keys pass untouched. */
export function redactEntry(key: string, value: unknown, depth = 0): unknown {
  return SENSITIVE_KEY.test(key) ? REDACTED : redact(value, depth);
}
