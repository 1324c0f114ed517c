#!/bin/bash
# The touchscreen's browser: waits until the controller answers, then runs Chromium full screen on /kiosk.
# Started by cage (bangbangui-kiosk.service) or by kiosk-x11.sh; when Chromium ends, so does the session, and
# systemd starts it again. Settings (optional) in /etc/bangbangui/kiosk.env:
#   KIOSK_URL     the touchscreen page (default http://127.0.0.1:3002/kiosk, the controller's kiosk listener)
#   KIOSK_EXTRA   more Chromium flags, e.g. --force-device-scale-factor=1.25
set -euo pipefail

url="${KIOSK_URL:-http://127.0.0.1:3002/kiosk}"
origin="${url%/kiosk*}"

# Chromium on a page that does not answer shows an error page and stays there: wait for the controller first.
until curl -fsS -o /dev/null --max-time 2 "$origin/api/health"; do sleep 1; done

# A fresh profile on every start: no "restore pages?" bubble after a power cut, no stale cache.
profile="${XDG_RUNTIME_DIR:-/tmp}/bangbangui-chromium"
rm -rf "$profile"
mkdir -p "$profile"

flags=(
  --kiosk                                    # full screen, no address bar, no tabs, no exit by F11
  --no-first-run
  --noerrdialogs
  --disable-infobars
  --disable-session-crashed-bubble
  --disable-translate
  "--disable-features=Translate,TranslateUI,TouchpadOverscrollHistoryNavigation,MediaRouter"
  --overscroll-history-navigation=0          # no swipe back
  --disable-pinch                            # no pinch zoom
  --autoplay-policy=no-user-gesture-required # spoken prompts before the first touch
  --check-for-update-interval=31536000
  --password-store=basic
  --user-data-dir="$profile"
  --ozone-platform-hint=auto                 # Wayland under cage, X11 under xinit
)
# shellcheck disable=SC2206 # KIOSK_EXTRA is a list of flags, split on purpose
extra=(${KIOSK_EXTRA:-})
exec /usr/bin/chromium "${flags[@]}" "${extra[@]}" "$url"
