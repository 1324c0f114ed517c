#!/bin/sh
# Regenerates the kiosk's spoken prompts (Mandarin, espeak-ng) as small WAV files:
# 8 kHz, mono, 8-bit mu-law (G.711), about 8 KB per second of speech.
#
#   apt-get install -y espeak-ng   # then, from anywhere:
#   sh kiosk-ui/kiosk/sounds/make-sounds.sh
#
# The generated files are committed: the machine running the kiosk need not have espeak-ng.
# Recorded human speech is better; replace a file with a recording of the same words (same name,
# any WAV Chromium plays) and keep the list below in step with CLIPS in ../sounds.js.
# Typed digits are never spoken: the keypad plays a tone made in the page (Web Audio), not a clip.
set -eu
cd "$(dirname "$0")"
command -v espeak-ng >/dev/null || { echo "espeak-ng is missing: apt-get install -y espeak-ng" >&2; exit 1; }
command -v node >/dev/null || { echo "node is missing" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

say() { # name text
  espeak-ng -v cmn -s 175 -a 180 -w "$TMP/$1.wav" "$2"
  node - "$TMP/$1.wav" "$1.wav" <<'JS'
// 16-bit PCM WAV at any rate -> 8 kHz 8-bit mu-law WAV (averaging low-pass, linear interpolation).
const fs = require('node:fs');
const [src, dst] = process.argv.slice(2);
const b = fs.readFileSync(src);
let off = 12, rate = 0, data = null;
while (off + 8 <= b.length) {
  const id = b.toString('ascii', off, off + 4);
  const len = b.readUInt32LE(off + 4);
  if (id === 'fmt ') rate = b.readUInt32LE(off + 12);
  if (id === 'data') data = b.subarray(off + 8, Math.min(b.length, off + 8 + len));
  off += 8 + len + (len & 1);
}
if (!rate || !data) throw new Error(`${src}: not a PCM WAV`);
const inp = new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + (data.length & ~1)));
// trim leading and trailing silence
let a = 0, z = inp.length;
while (a < z && Math.abs(inp[a]) < 300) a++;
while (z > a && Math.abs(inp[z - 1]) < 300) z--;
const pcm = inp.subarray(Math.max(0, a - rate / 50), Math.min(inp.length, z + rate / 20));
const OUT = 8000, step = rate / OUT, n = Math.floor(pcm.length / step);
const half = Math.max(1, Math.floor(step / 2));
let peak = 1;
const lin = new Float64Array(n);
for (let i = 0; i < n; i++) {
  const c = Math.floor(i * step);
  let s = 0, k = 0;
  for (let j = c - half; j <= c + half; j++) if (j >= 0 && j < pcm.length) { s += pcm[j]; k++; }
  lin[i] = s / k;
  peak = Math.max(peak, Math.abs(lin[i]));
}
const gain = 29000 / peak; // normalise: a public place is not quiet
function mulaw(x) {
  let s = Math.max(-32635, Math.min(32635, Math.round(x)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s += 0x84;
  let exp = 7;
  for (let m = 0x4000; (s & m) === 0 && exp > 0; m >>= 1) exp--;
  const mant = (s >> (exp + 3)) & 0x0f;
  return ~(sign | (exp << 4) | mant) & 0xff;
}
const body = Buffer.alloc(n);
for (let i = 0; i < n; i++) body[i] = mulaw(lin[i] * gain);
const h = Buffer.alloc(58);
h.write('RIFF', 0); h.writeUInt32LE(50 + n + (n & 1), 4); h.write('WAVE', 8);
h.write('fmt ', 12); h.writeUInt32LE(18, 16);
h.writeUInt16LE(7, 20); // WAVE_FORMAT_MULAW
h.writeUInt16LE(1, 22); h.writeUInt32LE(OUT, 24); h.writeUInt32LE(OUT, 28);
h.writeUInt16LE(1, 32); h.writeUInt16LE(8, 34); h.writeUInt16LE(0, 36);
h.write('fact', 38); h.writeUInt32LE(4, 42); h.writeUInt32LE(n, 46);
h.write('data', 50); h.writeUInt32LE(n, 54);
fs.writeFileSync(dst, Buffer.concat([h, body, Buffer.alloc(n & 1)]));
JS
  echo "$1.wav  $(wc -c <"$1.wav") bytes  $2"
}

say welcome   "欢迎"
say prompt    "请扫码或输入取件码"
say scan      "请将手机二维码对准扫描口"
say code      "请输入八位取件码"
say phone     "请输入手机号后四位"
say opened    "柜门已打开，请取走文件并关好柜门"
say deposit   "柜门已打开，请放入材料并关好柜门"
say wrong     "取件码不正确，请重试"
say qr-bad    "这个二维码不能使用"
say nothing   "您目前没有待取的文件"
say locked    "尝试次数过多"
say staff     "请联系工作人员"
say later     "请稍后再试"
say more-time "还需要更多时间吗？"
