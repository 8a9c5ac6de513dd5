// An HTTP server speaking the list and watch protocol of one collection, scripted per watch request,
// so the informer's handling of silent, failing and expired watches runs through client-node's real
// Watch and fetch. (A real apiserver cannot be told to go silent or to fail on cue.)
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export type WatchScript =
  | { kind: 'silent' }
  | { kind: 'events'; events: { type: string; object: unknown }[]; thenClose?: boolean; delayMs?: number }
  | { kind: 'status'; code: number };

export interface Item {
  name: string;
  rv: string;
}

export class FakeApiserver {
  readonly watchQueries: URLSearchParams[] = [];
  listCount = 0;
  items: Item[] = [];
  listRv = '10';
  readonly scripts: WatchScript[] = [];
  private readonly open = new Set<ServerResponse>();
  private server: Server | undefined;

  async start(): Promise<KubeConfig> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.searchParams.get('watch') !== 'true') {
        this.listCount++;
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            metadata: { resourceVersion: this.listRv },
            items: this.items.map((i) => obj(i.name, i.rv)),
          }),
        );
        return;
      }
      this.watchQueries.push(url.searchParams);
      const script = this.scripts.shift() ?? { kind: 'silent' };
      if (script.kind === 'status') {
        res.statusCode = script.code;
        res.end(JSON.stringify({ kind: 'Status', code: script.code }));
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.writeHead(200);
      this.open.add(res);
      res.on('close', () => this.open.delete(res));
      if (script.kind === 'events') {
        setTimeout(() => {
          for (const e of script.events) res.write(JSON.stringify(e) + '\n');
          if (script.thenClose) res.end();
        }, script.delayMs ?? 0);
      }
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const port = (this.server.address() as AddressInfo).port;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
      currentContext: 'c',
    });
    return kc;
  }

  async stop(): Promise<void> {
    for (const r of this.open) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

export function obj(name: string, rv: string): unknown {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', resourceVersion: rv } };
}
