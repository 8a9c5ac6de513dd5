// Interactive API docs at /docs: Swagger UI from the swagger-ui-dist package, served by the service
// itself (no CDN), rendering the service's own /openapi.json. The page has no inline script, so
// helmet's default Content-Security-Policy (script-src 'self') holds unchanged on this route too.
import { createRequire } from 'node:module';
import path from 'node:path';
import { Router } from 'express';

const assetsDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

// Only the files the page loads: the package also ships a demo index.html and initializer that
// point at the public Petstore.
const ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png'] as const;

const page = (title: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title.replace(/[<>&"]/g, '')} API</title>
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// validatorUrl null: Swagger UI would otherwise send the document to validator.swagger.io.
// tryItOutEnabled opens every operation's form; persistAuthorization keeps the bearer token
// across reloads (in this browser's localStorage only).
const initializer = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  tryItOutEnabled: true,
  persistAuthorization: true,
  displayRequestDuration: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

export function apiDocs(title: string): Router {
  const router = Router();
  const html = page(title);
  router.get('/docs', (_req, res) => {
    res.type('html').send(html);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('text/javascript').send(initializer);
  });
  for (const asset of ASSETS) {
    router.get(`/docs/${asset}`, (_req, res, next) => {
      // The files change only with the package version: a day of caching saves reloading 1.5 MB.
      res.sendFile(asset, { root: assetsDir, maxAge: '1d' }, (err) => {
        if (err) next(err);
      });
    });
  }
  return router;
}
