import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express, type Router } from 'express';

import type { RelaisMetrics } from '../observability/metrics.js';

export interface HealthSource {
  /** True once every mediasoup worker runs and signalling accepts clients. */
  ready(): boolean;
  details(): Record<string, unknown>;
}

const webDist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../web/dist');

/** HTTP: the bundled browser client, liveness, readiness, Prometheus metrics and the admin API. */
export function createHttpApp(
  health: HealthSource,
  metrics: RelaisMetrics,
  refreshGauges: () => void,
  admin: Router,
  internal: Router,
): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    // The client loads nothing from elsewhere; the policy makes that a guarantee.
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Permissions-Policy', 'camera=(self), microphone=(self), display-capture=(self)');
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = health.ready();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', ...health.details() });
  });

  app.get('/metrics', async (_req, res) => {
    refreshGauges();
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.use('/admin', admin);
  app.use('/internal', internal);

  if (existsSync(webDist)) {
    // Hashed assets never change; the page that names them must be revalidated after a deploy.
    app.use(
      express.static(webDist, {
        index: 'index.html',
        setHeaders: (res, file) => {
          res.setHeader(
            'Cache-Control',
            file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
          );
        },
      }),
    );
  } else {
    app.get('/', (_req, res) => {
      res.status(503).type('text/plain').send('relais: the web client is not built. Run `npm run build:web`.\n');
    });
  }
  return app;
}
