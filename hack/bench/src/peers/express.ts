// Subject 2: bare Express 5 with one route, the framework floor our service is built on.
import express from 'express';
import { exitOnSignal, HEALTH_BODY, listenPort } from './payload.js';

const app = express();
app.disable('x-powered-by');
app.get('/live', (_req, res) => {
  res.json(HEALTH_BODY);
});
const server = app.listen(listenPort(), '127.0.0.1');
exitOnSignal(() => server.close());
