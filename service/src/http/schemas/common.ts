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

const CheckSchema = z.object({
  status: z.enum(['up', 'down']),
  critical: z.boolean(),
  durationMs: z.number(),
  error: z.string().optional(),
});
const HealthStatus = z.enum(['up', 'degraded', 'down']);
const Checks = z.record(z.string(), CheckSchema).meta({ description: 'shown to administrators only' });

export const StartupSchema = z.object({ status: z.enum(['started', 'starting']) }).meta({ id: 'Startup' });
export const LiveSchema = z.object({ status: z.literal('alive') }).meta({ id: 'Live' });
export const ReadySchema = z
  .object({
    status: HealthStatus,
    phase: z.enum(['starting', 'serving', 'draining', 'closing']),
    checks: Checks.optional(),
  })
  .meta({ id: 'Ready' });
export const HealthSchema = z
  .object({
    status: HealthStatus,
    service: z.string().optional(),
    region: z.string().optional(),
    zone: z.string().optional(),
    uptimeSeconds: z.number().optional(),
    timestamp: z.iso.datetime().optional(),
    checks: Checks.optional(),
  })
  .meta({ id: 'Health', description: 'the status; the rest for administrators only' });
