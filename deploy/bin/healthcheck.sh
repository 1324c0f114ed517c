#!/bin/bash
# Liveness check of the controller (bangbangui-healthcheck.timer, every 30 s; why: docs/adr/0002-liveness-health-check-timer.md).
#   - /api/health does not answer within 10 s three times in a row (event loop stalled, process hung): restart.
#   - the lock board link has been down for LINK_DOWN_RESTART_MIN minutes (default 15): restart once, which opens
#     the serial port from scratch (a USB adapter wedged after a brown-out); then again only after another period.
# Each restart is logged here and the check exits 1, so `systemctl --failed` and the journal show it.
set -uo pipefail

unit=bangbangui.service
state_dir="${RUNTIME_DIRECTORY:-/run/bangbangui-health}"
port="${PORT:-3000}"
host="${HOST:-127.0.0.1}"
case "$host" in 0.0.0.0 | "::") host=127.0.0.1 ;; esac
limit_min="${LINK_DOWN_RESTART_MIN:-15}"

systemctl is-active --quiet "$unit" || exit 0 # stopped or restarting: systemd's Restart= is in charge

# give a fresh start a minute to come up
since=$(systemctl show -p ActiveEnterTimestampMonotonic --value "$unit")
now_us=$(($(cut -d' ' -f1 /proc/uptime | tr -d .) * 10000))
if [ -n "$since" ] && [ "$since" -gt 0 ] && [ $((now_us - since)) -lt 60000000 ]; then exit 0; fi

mkdir -p "$state_dir"
fails=$(cat "$state_dir/fails" 2>/dev/null || echo 0)
down_since=$(cat "$state_dir/link-down-since" 2>/dev/null || echo "")
now=$(date +%s)

restart() {
  echo "restarting $unit: $1"
  rm -f "$state_dir/fails" "$state_dir/link-down-since"
  systemctl restart "$unit"
  exit 1
}

if ! body=$(curl -fsS --max-time "${HEALTH_TIMEOUT_S:-10}" "http://$host:$port/api/health" 2>/dev/null); then
  fails=$((fails + 1))
  echo "$fails" >"$state_dir/fails"
  echo "no answer from /api/health ($fails in a row)"
  [ "$fails" -ge 3 ] && restart "/api/health did not answer 3 times in a row"
  exit 0
fi
rm -f "$state_dir/fails"

link=$(printf '%s' "$body" | grep -o '"link":{"state":"[a-z]*"' | cut -d'"' -f6)
if [ "$link" = "online" ]; then
  rm -f "$state_dir/link-down-since"
  exit 0
fi
if [ -z "$down_since" ]; then
  echo "$now" >"$state_dir/link-down-since"
  echo "lock board link is ${link:-unknown}"
  exit 0
fi
if [ $((now - down_since)) -ge $((limit_min * 60)) ]; then
  restart "the lock board link has been ${link:-down} for $(((now - down_since) / 60)) minutes"
fi
exit 0
