/**
 * QR images (SVG for screens and pages, PNG for saving or printing), made with `qrcode`. Images that carry a
 * credential (pickup QR, resident QR) are sent with Cache-Control: no-store.
 */
import type { Response } from 'express';
import type QRCodeModule from 'qrcode';
import type { ResponseSpec } from './routes.js';

let qrcode: Promise<typeof QRCodeModule> | null = null;
/** The qrcode package (and the PNG encoder under it), loaded for the first image: /api/health and the doors never need it. */
function loadQrcode(): Promise<typeof QRCodeModule> {
  qrcode ??= import('qrcode').then((m) => m.default);
  return qrcode;
}

export type QrFormat = 'svg' | 'png';

const CONTENT_TYPE: Record<QrFormat, string> = { svg: 'image/svg+xml', png: 'image/png' };

/** Error correction M (15 %) with the standard 4-module quiet zone: scans from a phone screen or paper. */
export async function qrImage(text: string, format: QrFormat): Promise<Buffer> {
  const QRCode = await loadQrcode();
  if (format === 'svg') return Buffer.from(await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 }), 'utf8');
  return QRCode.toBuffer(text, { type: 'png', errorCorrectionLevel: 'M', margin: 4, scale: 8 });
}

export async function sendQr(res: Response, text: string, format: QrFormat, opts: { secret: boolean }): Promise<undefined> {
  const body = await qrImage(text, format);
  res.status(200).setHeader('Content-Type', CONTENT_TYPE[format]);
  res.setHeader('Cache-Control', opts.secret ? 'no-store' : 'public, max-age=300');
  res.end(body);
  return undefined;
}

export function qrResponse(format: QrFormat, description: string): ResponseSpec {
  return { description, contentType: CONTENT_TYPE[format] };
}
