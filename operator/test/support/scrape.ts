// A scrape of the secure metrics endpoint as Prometheus makes it: HTTPS, an optional bearer token,
// and either a CA to verify against or, as a ServiceMonitor's insecureSkipVerify, none.
import type { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface Scrape {
  status: number;
  body: string;
  peerCert: X509Certificate | undefined;
}

export function scrape(port: number, token?: string, ca?: string): Promise<Scrape> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/metrics',
        headers: token ? { authorization: `Bearer ${token}` } : {},
        ...(ca ? { ca, servername: 'localhost' } : { rejectUnauthorized: false }),
      },
      (res) => {
        // Read now: the socket is detached from the response by its end.
        const peerCert = (res.socket as TLSSocket).getPeerX509Certificate();
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, peerCert }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
