// /healthz, /readyz and /metrics over node:http (controller-runtime serves probes and metrics on two
// ports; one server per port here too). /metrics is plain HTTP, or with `secure` HTTPS where every
// request is authenticated and authorised first (the probes stay plain: the kubelet calls them).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as NetServer } from 'node:net';
import type { Registry } from 'prom-client';
import type { AuthOutcome } from './metrics-auth.js';
import type { ServingCert } from './tls.js';

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

export interface SecureMetrics {
  cert: ServingCert;
  check: (req: IncomingMessage) => Promise<AuthOutcome>;
  /** Called every `reloadMs` for the current certificate (a rotated Secret); undefined keeps it. */
  reload?: () => ServingCert | undefined;
  reloadMs?: number;
}

export function startMetricsServer(
  port: number,
  host: string,
  registry: Registry,
  secure?: SecureMetrics,
): Promise<NetServer> {
  const serve = (req: IncomingMessage, res: ServerResponse) => {
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
  };
  if (!secure) return listen(createServer(serve), port, host);
  const server = createHttpsServer({ ...secure.cert, minVersion: 'TLSv1.2' }, (req, res) => {
    secure
      .check(req)
      .then((outcome) => {
        if (outcome.status === 200) return serve(req, res);
        res.statusCode = outcome.status;
        if (outcome.status === 401) res.setHeader('www-authenticate', 'Bearer');
        res.end(`${outcome.message}\n`);
      })
      .catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
  });
  if (secure.reload) {
    let current = secure.cert;
    const timer = setInterval(() => {
      const next = secure.reload?.();
      if (next && (next.cert !== current.cert || next.key !== current.key)) {
        server.setSecureContext({ ...next, minVersion: 'TLSv1.2' });
        current = next;
      }
    }, secure.reloadMs ?? 60_000);
    timer.unref();
    server.once('close', () => clearInterval(timer));
  }
  return listen(server, port, host);
}

function listen<S extends NetServer>(server: S, port: number, host: string): Promise<S> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
