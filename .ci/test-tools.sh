#!/usr/bin/env bash
# What the test suite needs from the operating system, installed from Debian when missing:
#   socat            a pair of real pseudo-terminals for the serial tests
#   chromium         a real browser for the page tests (driven by playwright-core)
#   fonts-noto-cjk   Chinese glyphs, so pages render and screenshots are readable
#   the shellcheck linter: the install, kiosk and health-check scripts are checked with it
#   systemd          systemd-analyze verify of the service units (deploy/systemd)
#   librsvg2-bin, zbar-tools  QR SVGs drawn by a non-browser renderer (rsvg-convert) and read by zbarimg
# Run by `npm test` (pretest) and by .ci/run. Needs root (or sudo) only when something is missing.
set -euo pipefail

need=()
command -v socat >/dev/null 2>&1 || need+=(socat)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v rsvg-convert >/dev/null 2>&1 || need+=(librsvg2-bin)
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "The tests need: ${need[*]}. Install them with your system's package manager, then run npm test again." >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "The tests need: ${need[*]}. Run as root, or: apt-get install ${need[*]}" >&2
    exit 1
  fi
fi
echo "Installing from Debian for the tests: ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
