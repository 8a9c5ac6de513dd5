// What /distributed/config and /distributed/info show. The configuration is sanitised three ways:
// secret-named keys are masked, credentials inside URLs are masked, and, as a last guard, any
// string still containing a known secret value is masked whole.
import os from 'node:os';
import type { Config } from '../config/config.js';

export const MASK = '***';
const SECRET_KEY = /pass(word)?|secret|token|credential|private|api[-_]?key/i;

function maskUrl(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  try {
    const url = new URL(value);
    if (!url.username && !url.password) return value;
    if (url.password) url.password = MASK;
    else url.username = MASK;
    return url.toString();
  } catch {
    return MASK;
  }
}

function secretValues(config: Config): string[] {
  const values = [config.jwt.secret, config.db.password, config.redis.password, config.admin.password];
  for (const u of [config.db.url, config.redis.url]) {
    if (!u) continue;
    try {
      const url = new URL(u);
      values.push(decodeURIComponent(url.password), url.password);
    } catch {
      values.push(u);
    }
  }
  // Short values (an empty password, "0") would mask unrelated settings; they are masked by key.
  return values.filter((v): v is string => typeof v === 'string' && v.length >= 4);
}

function walk(value: unknown, secrets: string[], key = ''): unknown {
  if (key && SECRET_KEY.test(key)) return value === undefined || value === '' ? value : MASK;
  if (typeof value === 'string') {
    const cleaned = maskUrl(value);
    return secrets.some((s) => cleaned.includes(s)) ? MASK : cleaned;
  }
  if (Array.isArray(value)) return value.map((v) => walk(v, secrets));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, secrets, k)]));
  }
  return value;
}

export function sanitizedConfig(config: Config): unknown {
  return walk(config, secretValues(config));
}

export interface ServiceInfo {
  name: string;
  version: string;
  gitSha: string;
  region: string;
  zone: string;
  pod: string;
  node: string;
  startedAt: string;
  uptimeSeconds: number;
}

export function serviceInfo(config: Config, version: string, gitSha: string | undefined): ServiceInfo {
  const uptime = process.uptime();
  return {
    name: config.service.name,
    version,
    gitSha: gitSha ?? 'unknown',
    region: config.service.region,
    zone: config.service.zone,
    pod: config.build.podName ?? os.hostname(),
    node: process.version,
    startedAt: new Date(Date.now() - uptime * 1000).toISOString(),
    uptimeSeconds: Math.round(uptime),
  };
}
