// Subject 1: bare node:http, the ceiling for any Node framework on this machine.
import { createServer } from 'node:http';
import { exitOnSignal, HEALTH_JSON, listenPort } from './payload.js';

const server = createServer((_req, res) => {
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(HEALTH_JSON),
  });
  res.end(HEALTH_JSON);
});
server.listen(listenPort(), '127.0.0.1');
exitOnSignal(() => server.close());
