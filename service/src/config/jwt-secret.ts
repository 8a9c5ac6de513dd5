// Outside production a missing JWT secret is generated once and kept under the state folder,
// so `make run` works without any environment and tokens survive restarts.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';

export interface SecretResolution {
  secret: string;
  generatedAt?: string;
}

export function resolveJwtSecret(config: Config): SecretResolution {
  if (config.jwt.secret) return { secret: config.jwt.secret };
  if (config.isProduction) throw new Error('JWT_SECRET is required in production');
  const file = path.join(config.stateDir, 'jwt-secret');
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return { secret: existing, generatedAt: file };
  } catch {
    // first start: fall through and generate
  }
  fs.mkdirSync(config.stateDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  fs.writeFileSync(file, secret + '\n', { mode: 0o600 });
  return { secret, generatedAt: file };
}
