// The optional second listener on METRICS_PORT: only the metrics, so Prometheus can scrape a port
// that the Service/Ingress never exposes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../domain/shared/ports.js';
import type { Metrics } from '../infrastructure/metrics/metrics.js';

export class MetricsServer {
  private readonly server: http.Server;

  constructor(
    private readonly metrics: Metrics,
    private readonly path: string,
    private readonly host: string,
    private readonly portNumber: number,
    private readonly log: Logger,
  ) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== this.path && path !== '/distributed/metrics')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    let body: string;
    try {
      body = await this.metrics.text();
    } catch (err) {
      // A failed collection is answered, never left as a rejection that would end the process.
      this.log.error('metrics collection failed', { error: err });
      res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
      return;
    }
    res.writeHead(200, { 'content-type': this.metrics.contentType, 'cache-control': 'no-store' }).end(body);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.portNumber, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  stop(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
