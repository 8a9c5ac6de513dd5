// Parses request parts with zod; a failure becomes one 400 problem listing every issue.
import type { z } from 'zod';
import { HttpProblem, type ValidationIssue } from './problem.js';

export function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'query' | 'params',
): z.output<S> {
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const errors: ValidationIssue[] = result.error.issues.map((i) => ({
    path: [where, ...i.path.map(String)].join('.'),
    message: i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message,
  }));
  throw new HttpProblem('validation-error', errors.map((e) => `${e.path}: ${e.message}`).join('; '), {
    errors,
  });
}
