/**
 * The HTTP side of the controller. Every error answer has one shape:
 *   { "error": { "code": "...", "message": "...", "field"?: "..." } }
 */
import express, { type ErrorRequestHandler, type Express } from 'express';
import helmet from 'helmet';
import type { BoardDriver } from '../board/driver.js';

export interface AppDeps {
  driver: BoardDriver;
}

export function createApp({ driver }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(helmet());
  app.use(express.json({ limit: '32kb' }));

  app.get('/api/health', (_req, res) => {
    const snap = driver.snapshot();
    const boardsOnline = snap.boards.filter((b) => b.online).length;
    res.json({
      status: snap.link === 'online' && boardsOnline === snap.boards.length ? 'ok' : 'degraded',
      link: { state: snap.link, port: snap.port },
      boards: snap.boards,
      compartmentCount: snap.compartments.length,
      compartments: snap.compartments,
      counters: snap.counters,
    });
  });

  app.use('/api', (req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: `no such endpoint: ${req.method} ${req.path}` } });
  });

  const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'BAD_JSON', message: 'the request body is not valid JSON' } });
    } else if (e.type === 'entity.too.large') {
      res.status(413).json({ error: { code: 'TOO_LARGE', message: 'the request body is too large' } });
    } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: { code: 'BAD_REQUEST', message: e.message ?? 'bad request' } });
    } else {
      res.status(500).json({ error: { code: 'INTERNAL', message: 'internal error' } });
    }
  };
  app.use(onError);
  return app;
}
