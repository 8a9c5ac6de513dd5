// Subject 3: Fastify answering the same body, what a user might pick instead of Express.
import Fastify from 'fastify';
import { exitOnSignal, HEALTH_BODY, listenPort } from './payload.js';

const app = Fastify({ logger: false });
app.get('/live', async () => HEALTH_BODY);
await app.listen({ port: listenPort(), host: '127.0.0.1' });
exitOnSignal(() => app.close());
