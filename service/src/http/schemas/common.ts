// Schemas shared by several routes; they drive both validation and the OpenAPI document.
import { z } from 'zod';

export const ProblemSchema = z
  .object({
    type: z.string().meta({ example: 'https://platform.sqlize.dev/problems/validation-error' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    rule: z.string().optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

export const IdParams = z.object({ id: z.uuid().meta({ description: 'user id' }) }).strict();

export const HealthSchema = z
  .object({
    status: z.enum(['up', 'degraded', 'down']),
    service: z.string().optional(),
    region: z.string().optional(),
    zone: z.string().optional(),
    uptimeSeconds: z.number().optional(),
    timestamp: z.string().optional(),
    checks: z.record(
      z.string(),
      z.object({
        status: z.enum(['up', 'down']),
        critical: z.boolean(),
        durationMs: z.number(),
        error: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'Health' });
