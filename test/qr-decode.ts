/**
 * Reading QR images back into module grids, to check what an image encodes:
 *   - PNG: a small decoder (chunks, zlib, scanline filters; 8-bit grey/RGB/RGBA) sampling each module's centre,
 *   - SVG: an interpreter for the path `qrcode` draws (M x y / m dx 0 / h n runs of dark modules).
 * Compare with `expectedModules(text)` (QRCode.create of the text we expect, same options as the server): an
 * equal grid means the image encodes exactly that text. Where `zbarimg` is installed, tests also decode with it.
 */
import { inflateSync } from 'node:zlib';
import QRCode from 'qrcode';

export type Grid = boolean[][];

export function expectedModules(text: string): Grid {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  return Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => qr.modules.get(r, c) === 1));
}

/** The text segments QRCode.create makes for `text` (a sanity check that the expected grid is of that text). */
export function segmentsText(text: string): string {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  return (qr.segments as unknown as { data: Uint8Array | string }[])
    .map((s) => (typeof s.data === 'string' ? s.data : Buffer.from(s.data).toString('utf8')))
    .join('');
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a),
    pb = Math.abs(p - b),
    pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes an 8-bit PNG into luminance rows (0 black … 255 white). */
export function pngLuma(png: Buffer): { width: number; height: number; luma: (x: number, y: number) => number } {
  if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  let off = 8,
    width = 0,
    height = 0,
    depth = 0,
    colorType = 0;
  const idat: Buffer[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') (width = data.readUInt32BE(0)), (height = data.readUInt32BE(4)), (depth = data[8]!), (colorType = data[9]!);
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const bpp = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  if (depth !== 8 || !bpp) throw new Error(`unsupported PNG: depth ${depth}, colour type ${colorType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i]!;
      const a = i >= bpp ? out[y * stride + i - bpp]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + i]! : 0;
      const c = i >= bpp && y > 0 ? out[(y - 1) * stride + i - bpp]! : 0;
      const v = filter === 0 ? x : filter === 1 ? x + a : filter === 2 ? x + b : filter === 3 ? x + ((a + b) >> 1) : x + paeth(a, b, c);
      out[y * stride + i] = v & 0xff;
    }
  }
  return {
    width,
    height,
    luma: (x, y) => {
      const p = y * stride + x * bpp;
      return bpp >= 3 ? (out[p]! + out[p + 1]! + out[p + 2]!) / 3 : out[p]!;
    },
  };
}

/** Module grid of a QR PNG drawn with a quiet zone of `margin` modules (the size is inferred). */
export function pngModules(png: Buffer, margin = 4): Grid {
  const img = pngLuma(png);
  // the first dark pixel on the diagonal is the finder pattern's corner: it gives the module size
  let first = 0;
  while (first < img.width && img.luma(first, first) > 128) first++;
  const scale = first / margin;
  const n = Math.round(img.width / scale) - 2 * margin;
  return Array.from({ length: n }, (_, r) =>
    Array.from({ length: n }, (_, c) => img.luma(Math.floor((c + margin + 0.5) * scale), Math.floor((r + margin + 0.5) * scale)) < 128),
  );
}

/** Module grid of the SVG `qrcode` draws. */
export function svgModules(svg: string): Grid {
  const view = /viewBox="0 0 (\d+) (\d+)"/.exec(svg);
  const paths = [...svg.matchAll(/<path [^>]*stroke="[^"]*"[^>]*d="([^"]*)"/g)];
  if (!view || paths.length !== 1) throw new Error('not a qrcode SVG');
  const total = Number(view[1]);
  const grid: Grid = Array.from({ length: total }, () => Array.from({ length: total }, () => false));
  let x = 0,
    y = 0;
  for (const [, cmd, a, b] of paths[0]![1]!.matchAll(/([MmHh])([\d.]+)(?: ([\d.]+))?/g)) {
    if (cmd === 'M') (x = Number(a)), (y = Math.floor(Number(b)));
    else if (cmd === 'm') x += Number(a);
    else if (cmd === 'h') for (let i = 0; i < Number(a); i++, x++) grid[y]![x] = true;
  }
  // drop the quiet zone: it is whatever surrounds the first dark row/column
  const margin = grid.findIndex((row) => row.some(Boolean));
  const n = total - 2 * margin;
  return Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => grid[r + margin]![c + margin]!));
}
