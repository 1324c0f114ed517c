/**
 * The word catalogue for the pages: every language's words, by key (controller/words/). The pages put words to
 * the codes and keys the API answers with; nothing on a page decides what a message means by reading its text.
 */
import { z } from 'zod';
import { catalogue, LANGUAGES } from '../words/catalogue.js';
import { route, type RouteSpec } from './routes.js';

const wordsSchema = z.object({
  languages: z.array(z.object({ language: z.string(), name: z.string() })).describe('the primary language first'),
  catalogues: z.record(
    z.string(),
    z.object({ listSeparator: z.string(), words: z.record(z.string(), z.string()).describe('key → template; {name} is a parameter') }),
  ),
});
export type WordsAnswer = z.infer<typeof wordsSchema>;

export function wordsAnswer(): WordsAnswer {
  return {
    languages: LANGUAGES.map((l) => ({ language: l, name: catalogue(l).name })),
    catalogues: Object.fromEntries(LANGUAGES.map((l) => [l, { listSeparator: catalogue(l).listSeparator, words: { ...catalogue(l).words } }])),
  };
}

export function wordsRoutes(): RouteSpec[] {
  const answer = wordsAnswer();
  return [
    route({
      method: 'get',
      path: '/api/words',
      tag: 'meta',
      access: 'public',
      summary: 'The word catalogue: what every code and key says, in every language',
      responses: { 200: { description: 'the catalogue', schema: wordsSchema } },
      handler: () => [200, answer],
    }),
  ];
}
