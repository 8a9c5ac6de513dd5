// Subject 8: a bare Express handler running the service's user-by-id query with raw pg:
// the ceiling for the database path (no ORM, no cache, no middleware).
import express from 'express';
import pg from 'pg';
import { exitOnSignal, listenPort } from './payload.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const app = express();
app.disable('x-powered-by');
app.get('/live', (_req, res) => {
  res.json({ status: 'ok' });
});
app.get('/users/:id', async (req, res) => {
  const { rows } = await pool.query(
    'SELECT id, email, name, role, status, version, created_at, updated_at FROM users WHERE id = $1',
    [req.params.id],
  );
  if (rows.length === 0) {
    res.status(404).json({ title: 'Not Found' });
    return;
  }
  res.json(rows[0]);
});
const server = app.listen(listenPort(), '127.0.0.1');
exitOnSignal(async () => {
  server.close();
  await pool.end();
});
