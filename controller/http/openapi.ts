/**
 * The OpenAPI 3.1 description, built from the route declarations (routes.ts): nothing to keep
 * in step by hand. Served at GET /api/openapi.json.
 */
import { z } from 'zod';
import { bodyRequired, errorBodySchema, type RouteSpec } from './routes.js';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const s = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  delete s.$schema;
  return s;
}

/** Express `:name` → OpenAPI `{name}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

const SECURITY: Record<string, unknown[]> = {
  public: [],
  kiosk: [{ kioskDevice: [] }],
  staff: [{ staffSession: [] }],
  admin: [{ staffSession: [] }],
};

export function buildOpenApi(routes: readonly RouteSpec[], info: { title: string; version: string }): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', r.params],
      ['query', r.query],
    ] as const) {
      if (!schema) continue;
      const s = jsonSchema(schema, 'input');
      const props = (s.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((s.required as string[] | undefined) ?? []);
      for (const [name, p] of Object.entries(props)) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || required.has(name),
          schema: p,
          ...(p.description ? { description: p.description } : {}),
        });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(r.responses)) {
      const content = spec.schema
        ? { 'application/json': { schema: jsonSchema(spec.schema, 'output') } }
        : spec.contentType
          ? { [spec.contentType]: {} }
          : undefined;
      responses[status] = content ? { description: spec.description, content } : { description: spec.description };
    }
    const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
    responses['400'] ??= { description: 'bad input', content: errorContent };
    if (r.body) {
      responses['413'] ??= { description: 'the request body is too large', content: errorContent };
      responses['415'] ??= { description: 'the request body is not application/json', content: errorContent };
    }
    if (r.access !== 'public') {
      responses['401'] ??= { description: 'not authenticated', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
      responses['403'] ??= {
        description: 'not allowed for this caller',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method}_${r.path.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '')}`,
      security: SECURITY[r.access],
      'x-access': r.access,
      ...(parameters.length ? { parameters } : {}),
      ...(r.body
        ? { requestBody: { required: bodyRequired(r.body), content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } } }
        : {}),
      responses,
    };
    (paths[openApiPath(r.path)] ??= {})[r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: { Error: jsonSchema(errorBodySchema, 'output') },
      securitySchemes: {
        staffSession: { type: 'http', scheme: 'bearer', description: 'a session token from POST /api/staff/login' },
        kioskDevice: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Kiosk-Key',
          description:
            'the device key set at installation (KIOSK_KEY); callers on the kiosk listener (127.0.0.1:KIOSK_PORT) are the kiosk without it',
        },
      },
    },
  };
}
