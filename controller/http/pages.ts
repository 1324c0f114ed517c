/**
 * The screens: static pages from kiosk-ui/, no build step.
 *   /m/submit, /m/status/:token   the residents' phone pages (kiosk-ui/phone/)
 *   /kiosk                        the cabinet's touchscreen (kiosk-ui/kiosk/)
 *   /staff                        the staff console (kiosk-ui/staff/, when present)
 *   /ui/…                         their scripts, styles and sounds
 * Pages talk to the JSON API and the live channels only; they hold no logic the API does not check.
 */
import { say } from '../words/catalogue.js';
import { said } from '../words/keys.js';
import { languageOf } from './routes.js';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/**
 * kiosk-ui/ beside controller/: two levels up from the sources (tsx), more from the built JavaScript
 * (dist/controller/http/, npm run start:prod), which keeps no copy of the pages.
 */
export const UI_ROOT =
  [2, 3, 4, 5].map((up) => path.resolve(HERE, '../'.repeat(up), 'kiosk-ui')).find((dir) => fs.existsSync(path.join(dir, 'kiosk', 'index.html'))) ??
  path.resolve(HERE, '../../kiosk-ui');

export function mountPages(app: Express): void {
  const page = (file: string) => (req: express.Request, res: express.Response) => {
    res.sendFile(path.join(UI_ROOT, file), { cacheControl: false, headers: { 'Cache-Control': 'no-cache' } }, (err) => {
      if (err && !res.headersSent)
        res
          .status(404)
          .type('text/plain; charset=utf-8')
          .send(`${say(said('http.page_not_found'), languageOf(req))}`);
    });
  };
  app.get('/m/submit', page('phone/submit.html'));
  app.get('/m/status/:token', page('phone/status.html'));
  app.get('/kiosk', page('kiosk/index.html'));
  app.get('/staff', page('staff/index.html'));
  app.get('/', (_req, res) => res.redirect(302, '/kiosk'));
  // Revalidated on every load (ETag, 304 when unchanged): after an update the kiosk's next page load is the new
  // version as a whole, never new HTML with an hour-old script; on a local network a revalidation costs a few ms.
  app.use(
    '/ui',
    express.static(UI_ROOT, {
      index: false,
      fallthrough: true,
      etag: true,
      cacheControl: false,
      setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
    }),
  );
}
