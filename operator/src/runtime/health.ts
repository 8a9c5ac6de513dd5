// /healthz, /readyz and /metrics over node:http (controller-runtime serves probes and metrics on two
// ports; one server per port here too).
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export type Check = () => boolean;

export function startProbeServer(
  port: number,
  host: string,
  checks: { healthz: Check; readyz: Check },
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const check = path === '/healthz' ? checks.healthz : path === '/readyz' ? checks.readyz : undefined;
    if (!check) {
      res.statusCode = 404;
      res.end('not found\n');
      return;
    }
    const ok = check();
    res.statusCode = ok ? 200 : 503;
    res.end(ok ? 'ok\n' : 'not ready\n');
  });
  return listen(server, port, host);
}

export function startMetricsServer(port: number, host: string, registry: Registry): Promise<Server> {
  const server = createServer((req, res) => {
    if ((req.url ?? '/').split('?')[0] !== '/metrics') {
      res.statusCode = 404;
      res.end('not found\n');
      return;
    }
    registry
      .metrics()
      .then((body) => {
        res.setHeader('content-type', registry.contentType);
        res.end(body);
      })
      .catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
  });
  return listen(server, port, host);
}

function listen(server: Server, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
