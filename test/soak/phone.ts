/**
 * A resident's phone on the network: POSTs from its own loopback address (127.1.x.y), so that the
 * per-address submission limit of POST /api/requests applies per phone as it would in the field
 * (every fetch from this process would otherwise come from 127.0.0.1, which is also the kiosk).
 * Every answer is checked against the route declarations exactly as ApiClient does: an undocumented
 * status or a body that does not match its schema throws an Error starting with "api-client:".
 */
import http from 'node:http';
import { documentedStatuses, schemaFor, type ApiClient } from '../api-client.js';
import { errorBodySchema } from '../../controller/http/routes.js';

export class Phone {
  constructor(
    private readonly api: ApiClient,
    readonly localAddress: string,
  ) {}

  /** Phone n's address: 127.1.0.1, 127.1.0.2, … (all loopback on Linux, none of them the kiosk's 127.0.0.1). */
  static address(n: number): string {
    const i = n + 1;
    return `127.1.${(i >> 8) & 255}.${i & 255}`;
  }

  async post<T>(path: string, body: unknown): Promise<{ status: number; body: T }> {
    const spec = this.api.match('POST', path);
    if (!spec) throw new Error(`api-client: no declared route serves POST ${path}`);
    const url = new URL(path, this.api.baseUrl);
    const payload = JSON.stringify(body);
    const res = await new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method: 'POST',
          localAddress: this.localAddress,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (r) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (c: string) => (text += c));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, type: String(r.headers['content-type'] ?? ''), text }));
          r.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
    const where = `POST ${path} → ${res.status}`;
    if (!documentedStatuses(spec).has(res.status)) throw new Error(`api-client: ${where}: status not documented; body: ${res.text.slice(0, 300)}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.text);
    } catch {
      throw new Error(`api-client: ${where}: the answer is not JSON: ${res.text.slice(0, 200)}`);
    }
    const schema = schemaFor(spec, res.status);
    if (schema && !schema.safeParse(parsed).success)
      throw new Error(`api-client: ${where}: the answer does not match the declared schema: ${res.text.slice(0, 500)}`);
    if (res.status >= 400 && !errorBodySchema.safeParse(parsed).success)
      throw new Error(`api-client: ${where}: an error answer without the one error shape`);
    return { status: res.status, body: parsed as T };
  }
}
