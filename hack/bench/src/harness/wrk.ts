import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPORT_LUA = fileURLToPath(new URL('../../wrk/report.lua', import.meta.url));

export interface WrkResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

interface WrkJson {
  requests: number;
  duration_us: number;
  errors: Record<'connect' | 'read' | 'write' | 'status' | 'timeout', number>;
  p50_us: number;
  p99_us: number;
}

export interface WrkOptions {
  url: string;
  seconds: number;
  connections: number;
  headers?: Record<string, string>;
  /** CPU list for taskset, so the load generator never shares the server's core. */
  cpus?: string;
}

/** One wrk run; non-2xx/3xx answers, timeouts and socket errors all count as errors. */
export async function wrk(options: WrkOptions): Promise<WrkResult> {
  const args = [
    '-t1',
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--timeout',
    '5s',
    '-s',
    REPORT_LUA,
    ...Object.entries(options.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
    options.url,
  ];
  const [cmd, cmdArgs] = options.cpus ? ['taskset', ['-c', options.cpus, 'wrk', ...args]] : ['wrk', args];
  const { stdout } = await run(cmd, cmdArgs, { maxBuffer: 1 << 20 });
  const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk printed no summary for ${options.url}:\n${stdout}`);
  const json = JSON.parse(line.slice('WRK_JSON '.length)) as WrkJson;
  const errors = Object.values(json.errors).reduce((a, b) => a + b, 0);
  return {
    requests: json.requests,
    rps: json.requests / (json.duration_us / 1e6),
    p50Ms: json.p50_us / 1000,
    p99Ms: json.p99_us / 1000,
    errors,
  };
}
