// Auth API schemas.
import { z } from 'zod';
import { UserSchema, email } from './users.js';

export const LoginBody = z
  .object({
    email,
    password: z.string().min(1).max(1024),
    deviceToken: z.string().min(1).max(4096).optional().meta({
      description: 'from an earlier login (also sent as the esp_device cookie): see the login limits',
    }),
  })
  .strict()
  .meta({ id: 'Login' });

export const RefreshBody = z
  .object({
    refreshToken: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .meta({ description: 'omit to use the httpOnly refresh cookie (then X-CSRF-Token is required)' }),
  })
  .strict()
  .meta({ id: 'Refresh' });

export const TokenResponse = z
  .object({
    accessToken: z.string(),
    refreshToken: z.string(),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int().meta({ description: 'access token lifetime in seconds' }),
    sessionId: z.uuid(),
    csrfToken: z.string().optional().meta({ description: 'send as X-CSRF-Token when refreshing by cookie' }),
    deviceToken: z
      .string()
      .optional()
      .meta({ description: 'login only: send it with later logins of this user from this client' }),
    user: UserSchema.optional(),
  })
  .meta({ id: 'Tokens' });

export const SessionSchema = z
  .object({
    id: z.uuid(),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    userAgent: z.string().nullable(),
    ip: z.string().nullable(),
    current: z.boolean(),
  })
  .meta({ id: 'Session' });

export const SessionIdParams = z.object({ id: z.uuid().meta({ description: 'session id' }) }).strict();
