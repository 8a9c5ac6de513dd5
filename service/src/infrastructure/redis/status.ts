// What GET /distributed/redis/status reports: state, round-trip time and a few INFO fields.
import type { Redis } from 'ioredis';

export interface RedisStatus {
  configured: boolean;
  state: string;
  pingMs?: number;
  version?: string;
  mode?: string;
  uptimeSeconds?: number;
  usedMemoryBytes?: number;
  usedMemoryHuman?: string;
  maxMemoryBytes?: number;
  connectedClients?: number;
  blockedClients?: number;
  error?: string;
}

export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1);
  }
  return fields;
}

const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));

export async function probeRedisStatus(client: Redis | undefined): Promise<RedisStatus> {
  if (!client) return { configured: false, state: 'embedded' };
  const state = client.status;
  if (state !== 'ready') return { configured: true, state };
  try {
    const t0 = performance.now();
    await client.ping();
    const pingMs = Math.round((performance.now() - t0) * 1000) / 1000;
    const info = parseInfo(
      [await client.info('server'), await client.info('memory'), await client.info('clients')].join('\n'),
    );
    return {
      configured: true,
      state,
      pingMs,
      version: info.redis_version,
      mode: info.redis_mode,
      uptimeSeconds: num(info.uptime_in_seconds),
      usedMemoryBytes: num(info.used_memory),
      usedMemoryHuman: info.used_memory_human,
      maxMemoryBytes: num(info.maxmemory),
      connectedClients: num(info.connected_clients),
      blockedClients: num(info.blocked_clients),
    };
  } catch (err) {
    return { configured: true, state, error: (err as Error).message };
  }
}
