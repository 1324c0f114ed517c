#!/bin/bash
# The X11 touchscreen session (bangbangui-kiosk-x11.service runs it under xinit): no screen saver, no power
# saving, no blanking, then the browser. When the browser ends, the X session ends and systemd starts it again.
set -euo pipefail
xset s off
xset s noblank
xset -dpms
exec /usr/local/lib/bangbangui/kiosk-browser.sh
