/**
 * The one error shape: an error about one field lists it in `fields` too, so that a form that marks every field in
 * `fields` marks it; each entry has its key, parameters and words.
 */
import express from 'express';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { said } from '../words/keys.js';
import { HttpError, mountRoutes, route } from './routes.js';

let base = '';
let close = () => {};
beforeAll(async () => {
  const app = express();
  mountRoutes(
    app,
    [
      route({
        method: 'get',
        path: '/one-field',
        tag: 't',
        access: 'public',
        summary: 'a use-case refusal about one field, after validation passed',
        responses: {},
        handler: () => {
          throw new HttpError(400, 'BAD_INPUT', said('submit.needs_id_number'), 'idNumber');
        },
      }),
    ],
    () => new HttpError(401, 'UNAUTHENTICATED'),
    () => null,
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
});
afterAll(() => close());

it('an error about one field names it in `fields` as well as in `field`, with its words', async () => {
  const r = await fetch(`${base}/one-field`, { headers: { 'accept-language': 'en' } });
  expect(r.status).toBe(400);
  const body = (await r.json()) as { error: Record<string, unknown> };
  expect(body.error).toEqual({
    code: 'BAD_INPUT',
    key: 'submit.needs_id_number',
    message: 'This service needs your ID number.',
    field: 'idNumber',
    fields: [{ field: 'idNumber', key: 'submit.needs_id_number', message: 'This service needs your ID number.' }],
  });
});
