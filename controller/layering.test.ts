/**
 * What the production controller may load: the simulator is a development and test tool, loaded only when
 * LOCK_PORT=sim asks for it (a dynamic import in main.ts), never by a static import of controller code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.dirname(fileURLToPath(import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('test-support.ts') ? [p] : [];
  });
}

/** Static (value) imports: `import … from '…'` and `export … from '…'`, not `import type`. */
function staticImports(text: string): string[] {
  return [...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?\sfrom\s+'([^']+)'/gms)].map((m) => m[1]!);
}

describe('controller layering', () => {
  it('no production controller file imports the simulator statically', () => {
    const offenders = sources(root).flatMap((file) =>
      staticImports(readFileSync(file, 'utf8'))
        .filter((spec) => spec.startsWith('.') && path.resolve(path.dirname(file), spec).startsWith(path.join(root, '..', 'sim') + path.sep))
        .map((spec) => `${path.relative(root, file)} → ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('finds a static import when there is one (the check can fail)', () => {
    expect(staticImports("import { SimCabinet } from '../sim/cabinet.js';\nimport type { X } from '../sim/x.js';")).toEqual(['../sim/cabinet.js']);
  });
});
