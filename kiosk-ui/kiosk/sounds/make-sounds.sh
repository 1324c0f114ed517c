#!/bin/sh
# Regenerates the kiosk's spoken prompts as WAV files: 22 050 Hz, mono, 8-bit mu-law — the rate the voice is made
# at, so it sounds like speech (the 8 kHz telephone rate made it muffled and hard to follow).
#   Mandarin: CLIPS in ../sounds.js → this folder;  English: CLIPS_EN in ../sounds.js → en/
# (one source each); number clips are composed there into door numbers, waits and phone numbers.
#
#   apt-get install -y espeak-ng   # then, from anywhere:
#   sh kiosk-ui/kiosk/sounds/make-sounds.sh          # both languages
#   sh kiosk-ui/kiosk/sounds/make-sounds.sh en       # one of them: zh or en
#
# Voices: espeak-ng's Mandarin (cmn) is the best Mandarin voice packaged in Debian 12 (apt-cache search finds no
# other Mandarin TTS: no ekho, no mbrola Chinese voice, no festival Mandarin). English: the MBROLA voice us1 when it
# is installed (mbrola and mbrola-us1 are in Debian's non-free section, which a default Debian 12 does not enable),
# else espeak-ng's own American English (en-us), which is what the committed English clips were made with.
# Recorded human speech is better: replace a file with a recording of the same words (same name, any WAV Chromium plays).
# The generated files are committed: the machine running the kiosk need not have espeak-ng.
# Typed digits are never spoken: the keypad plays a tone made in the page (Web Audio), not a clip.
set -eu
cd "$(dirname "$0")"
HERE=$(pwd)
command -v espeak-ng >/dev/null || { echo "espeak-ng is missing: apt-get install -y espeak-ng" >&2; exit 1; }
command -v node >/dev/null || { echo "node is missing" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# make_clips <list name in sounds.js> <folder> <espeak-ng voice> <words per minute>
make_clips() {
  list=$1 dir=$2 voice=$3 speed=$4
  mkdir -p "$HERE/$dir"
  (cd "$HERE/.." && node --input-type=module -e "
import { $list } from './sounds.js';
for (const [name, words] of Object.entries($list)) console.log(name + '\t' + words);
") >"$TMP/list"
  cd "$HERE/$dir"
  # remove clips no longer in the list
  for f in *.wav; do
    [ -e "$f" ] || continue
    grep -q "^${f%.wav}	" "$TMP/list" || rm -f "$f"
  done
  while IFS='	' read -r name words; do
    espeak-ng -v "$voice" -s "$speed" -a 180 -w "$TMP/$name.wav" "$words"
    node - "$TMP/$name.wav" "$name.wav" <<'JS'
// 16-bit PCM WAV -> the same rate, leading/trailing silence trimmed, normalised (a public place is not quiet).
const fs = require('node:fs');
const [src, dst] = process.argv.slice(2);
const b = fs.readFileSync(src);
let off = 12, rate = 0, data = null;
while (off + 8 <= b.length) {
  const id = b.toString('ascii', off, off + 4);
  const len = Math.min(b.readUInt32LE(off + 4), b.length - off - 8);
  if (id === 'fmt ') rate = b.readUInt32LE(off + 12);
  if (id === 'data') data = b.subarray(off + 8, off + 8 + len);
  off += 8 + len + (len & 1);
}
if (!rate || !data) throw new Error(`${src}: not a PCM WAV`);
const inp = new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + (data.length & ~1)));
let a = 0, z = inp.length;
while (a < z && Math.abs(inp[a]) < 300) a++;
while (z > a && Math.abs(inp[z - 1]) < 300) z--;
const pcm = inp.subarray(Math.max(0, a - Math.round(rate / 50)), Math.min(inp.length, z + Math.round(rate / 20)));
let peak = 1;
for (const s of pcm) peak = Math.max(peak, Math.abs(s));
const gain = Math.min(4, 29000 / peak);
function mulaw(x) {
  let v = Math.max(-32635, Math.min(32635, Math.round(x)));
  const sign = v < 0 ? 0x80 : 0;
  if (v < 0) v = -v;
  v += 0x84;
  let exp = 7;
  for (let m = 0x4000; (v & m) === 0 && exp > 0; m >>= 1) exp--;
  return ~(sign | (exp << 4) | ((v >> (exp + 3)) & 0x0f)) & 0xff;
}
const n = pcm.length;
const h = Buffer.alloc(58);
h.write('RIFF', 0); h.writeUInt32LE(50 + n + (n & 1), 4); h.write('WAVE', 8);
h.write('fmt ', 12); h.writeUInt32LE(18, 16);
h.writeUInt16LE(7, 20); // WAVE_FORMAT_MULAW: 8 bits a sample at the voice's own rate, half the size of 16-bit PCM
h.writeUInt16LE(1, 22); h.writeUInt32LE(rate, 24); h.writeUInt32LE(rate, 28);
h.writeUInt16LE(1, 32); h.writeUInt16LE(8, 34); h.writeUInt16LE(0, 36);
h.write('fact', 38); h.writeUInt32LE(4, 42); h.writeUInt32LE(n, 46);
h.write('data', 50); h.writeUInt32LE(n, 54);
const body = Buffer.alloc(n + (n & 1));
for (let i = 0; i < n; i++) body[i] = mulaw(pcm[i] * gain);
fs.writeFileSync(dst, Buffer.concat([h, body]));
JS
    echo "$dir/$name.wav  $(wc -c <"$name.wav") bytes  $words"
  done <"$TMP/list"
  cd "$HERE"
}

english_voice() {
  if command -v mbrola >/dev/null && [ -e /usr/share/mbrola/us1/us1 ]; then echo mb-us1; else echo en-us; fi
}

case "${1:-all}" in
  zh) make_clips CLIPS . cmn 165 ;;
  en) make_clips CLIPS_EN en "$(english_voice)" 150 ;;
  all)
    make_clips CLIPS . cmn 165
    make_clips CLIPS_EN en "$(english_voice)" 150
    ;;
  *) echo "usage: make-sounds.sh [zh|en]" >&2; exit 2 ;;
esac
