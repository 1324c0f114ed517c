#!/bin/bash
# Install 帮办柜 on the cabinet's PC: Debian 12 or 13, amd64 or arm64, run as root from the project's checkout
# (e.g. /opt/bangbangui). Running it again changes nothing that is already right; it never touches the data.
#
#   sudo deploy/install.sh                      install or update; start the controller and the touchscreen
#   sudo deploy/install.sh --kiosk x11          the touchscreen under a bare X server instead of cage (Wayland)
#   sudo deploy/install.sh --kiosk none         no touchscreen session (a kiosk elsewhere, or tests)
#   sudo deploy/install.sh --public-url URL     the phone pages' address (default http://<first LAN address>:3000)
#   sudo deploy/install.sh --uninstall          stop and remove the services and files; keeps data, settings, users
#   deploy/install.sh --root DIR [...]          staging: write every file under DIR instead of /, run nothing
set -euo pipefail

app_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
deploy="$app_dir/deploy"
root=""
uninstall=0
kiosk=cage
public_url=""
build=1
service_user=bangbangui
kiosk_user=bangbangui-kiosk
data_dir=/var/lib/bangbangui
lib_dir=/usr/local/lib/bangbangui
node_bin=$(command -v node || echo /usr/bin/node)

usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=${2:?--root needs a directory}; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    --kiosk) kiosk=${2:?--kiosk needs cage, x11 or none}; shift 2 ;;
    --public-url) public_url=${2:?--public-url needs a URL}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$kiosk" in cage | x11 | none) ;; *) echo "--kiosk must be cage, x11 or none" >&2; exit 2 ;; esac
if [ -n "$root" ]; then
  mkdir -p "$root"
  root=$(cd "$root" && pwd -P)
fi
staging() { [ -n "$root" ]; }

changed=0
kept=0
units_changed=0
rules_changed=0
say() { echo "  $*"; }
# Run a command on this machine; in staging, only say what would run.
run() {
  if staging; then say "would run: $*"; else say "run: $*"; "$@"; fi
}

render() {
  sed -e "s|@APP_DIR@|$app_dir|g" -e "s|@NODE@|$node_bin|g" -e "s|@USER@|$service_user|g" \
    -e "s|@KIOSK_USER@|$kiosk_user|g" -e "s|@DATA_DIR@|$data_dir|g" -e "s|@LIB_DIR@|$lib_dir|g" \
    -e "s|@PUBLIC_URL@|$public_url|g" "$1"
}

# put SRC DEST MODE: DEST (under the root) gets SRC with @VARS@ filled in, written only when it differs.
put() {
  local src=$1 dest=$root$2 mode=$3 tmp
  tmp=$(mktemp)
  render "$src" >"$tmp"
  if [ -f "$dest" ] && cmp -s "$tmp" "$dest" && [ "$(stat -c %a "$dest")" = "$mode" ]; then
    kept=$((kept + 1))
    rm -f "$tmp"
    return 1
  fi
  install -D -m "$mode" "$tmp" "$dest"
  rm -f "$tmp"
  changed=$((changed + 1))
  say "wrote $2"
  return 0
}

# put_once SRC DEST MODE: for files people edit afterwards (settings, udev rules): written only when missing.
put_once() {
  local dest=$root$2
  if [ -e "$dest" ]; then
    kept=$((kept + 1))
    say "kept $2 (already there; yours to edit)"
    return 1
  fi
  put "$@"
}

# dir PATH MODE OWNER: a directory with this mode and owner (the owner only on this machine).
dir() {
  local path=$root$1 mode=$2 owner=$3
  if [ -d "$path" ] && [ "$(stat -c %a "$path")" = "$mode" ] && { staging || [ "$(stat -c %U:%G "$path")" = "$owner" ]; }; then
    kept=$((kept + 1))
    return 0
  fi
  mkdir -p "$path"
  chmod "$mode" "$path"
  if staging; then say "directory $1 (mode $mode; owner $owner on the cabinet)"; else chown "$owner" "$path"; say "directory $1 (mode $mode, owner $owner)"; fi
  changed=$((changed + 1))
}

remove() {
  local path=$root$1
  if [ -e "$path" ] || [ -L "$path" ]; then
    rm -rf "$path"
    changed=$((changed + 1))
    say "removed $1"
  fi
}

systemd_version() { systemctl --version 2>/dev/null | awk 'NR == 1 { print $2 }'; }

preflight() {
  if staging; then
    say "staging into $root: files only, nothing is run"
    return
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "Run as root: sudo $0 $*" >&2
    exit 1
  fi
  # shellcheck source=/dev/null
  . /etc/os-release
  if [ "${ID:-}" != debian ] || { [ "${VERSION_ID:-}" != 12 ] && [ "${VERSION_ID:-}" != 13 ]; }; then
    echo "This installer is for Debian 12 or 13; this is ${PRETTY_NAME:-unknown}. Stopping." >&2
    exit 1
  fi
  local arch
  arch=$(dpkg --print-architecture)
  case "$arch" in amd64 | arm64) ;; *) echo "Debian on $arch is not tested; amd64 and arm64 are. Going on." >&2 ;; esac
}

apt_packages() {
  local want=(build-essential python3 curl ca-certificates sqlite3)
  case "$kiosk" in
    cage) want+=(cage chromium fonts-noto-cjk) ;;
    x11) want+=(xserver-xorg xinit x11-xserver-utils chromium fonts-noto-cjk) ;;
  esac
  local node_ok=0
  if command -v node >/dev/null 2>&1 && node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
    node_ok=1
  elif [ "${VERSION_ID:-}" = 13 ] || staging; then
    want+=(nodejs npm)
    node_ok=1
  fi
  if [ "$node_ok" = 0 ]; then
    cat >&2 <<'MSG'
Node.js 20.19 or later is needed; Debian 12 ships 18. Install Node.js 20 or 22 first, e.g. from NodeSource
(https://github.com/nodesource/distributions: Debian, "nodistro"), then run this script again.
MSG
    exit 1
  fi
  local missing=()
  for p in "${want[@]}"; do
    staging || dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if staging; then
    say "would install from Debian when missing: ${want[*]}"
  elif [ ${#missing[@]} -gt 0 ]; then
    run apt-get update -qq
    DEBIAN_FRONTEND=noninteractive run apt-get install -y -qq --no-install-recommends "${missing[@]}"
    changed=$((changed + 1))
  fi
}

users() {
  if staging; then
    say "would create system user $service_user (groups dialout; shell /usr/sbin/nologin; home $data_dir)"
    [ "$kiosk" != none ] && say "would create system user $kiosk_user (groups video render input audio) for the touchscreen"
    return
  fi
  if ! id "$service_user" >/dev/null 2>&1; then
    run useradd --system --home-dir "$data_dir" --no-create-home --shell /usr/sbin/nologin --groups dialout "$service_user"
    changed=$((changed + 1))
  elif ! id -nG "$service_user" | tr ' ' '\n' | grep -qx dialout; then
    run usermod -aG dialout "$service_user"
    changed=$((changed + 1))
  fi
  if [ "$kiosk" != none ] && ! id "$kiosk_user" >/dev/null 2>&1; then
    run useradd --system --home-dir "/var/lib/$kiosk_user" --create-home --shell /usr/sbin/nologin "$kiosk_user"
    changed=$((changed + 1))
  fi
  if [ "$kiosk" != none ]; then
    for g in video render input audio; do
      if getent group "$g" >/dev/null && ! id -nG "$kiosk_user" | tr ' ' '\n' | grep -qx "$g"; then
        run usermod -aG "$g" "$kiosk_user"
        changed=$((changed + 1))
      fi
    done
  fi
}

build_app() {
  if [ "$build" = 0 ] || staging; then
    say "would run in $app_dir: npm ci --no-audit --no-fund && npm run build (when the sources changed)"
    return
  fi
  cd "$app_dir"
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    run npm ci --no-audit --no-fund
    changed=$((changed + 1))
  fi
  # the bundle holds the dependencies too (deploy/bundle.mjs): a changed lock file rebuilds it
  if [ ! -f dist/controller/main.js ] || [ -n "$(find controller sim firmware-protocol tsconfig.json tsconfig.build.json deploy/bundle.mjs package.json package-lock.json -newer dist/controller/main.js -print -quit)" ]; then
    run npm run build
    changed=$((changed + 1))
  fi
  if ! runuser -u "$service_user" -- test -r "$app_dir/dist/controller/main.js"; then
    echo "The service user $service_user cannot read $app_dir. Put the checkout where it can (e.g. /opt/bangbangui) and run this again." >&2
    exit 1
  fi
}

files() {
  dir "$data_dir" 700 "$service_user:$service_user"
  dir /etc/bangbangui 750 "root:$service_user"
  dir "$lib_dir" 755 root:root
  if [ -z "$public_url" ]; then
    local ip=""
    staging || ip=$(hostname -I 2>/dev/null | awk '{ print $1 }')
    public_url="http://${ip:-192.168.1.20}:3000"
  fi
  put_once "$deploy/controller.env" /etc/bangbangui/controller.env 640 || true
  staging || chown "root:$service_user" "$root/etc/bangbangui/controller.env"
  if put "$deploy/systemd/bangbangui.service" /etc/systemd/system/bangbangui.service 644; then units_changed=1; fi
  if put "$deploy/systemd/bangbangui-healthcheck.service" /etc/systemd/system/bangbangui-healthcheck.service 644; then units_changed=1; fi
  if put "$deploy/systemd/bangbangui-healthcheck.timer" /etc/systemd/system/bangbangui-healthcheck.timer 644; then units_changed=1; fi
  local v
  v=$(systemd_version)
  if [ -n "$v" ] && [ "$v" -ge 254 ] 2>/dev/null; then
    # systemd 254+ (Debian 13): restart delays grow 5 s → 5 min instead of a fixed 5 s
    printf '[Service]\nRestartSteps=6\nRestartMaxDelaySec=5min\n' >"$root/tmp.backoff.$$"
    if put "$root/tmp.backoff.$$" /etc/systemd/system/bangbangui.service.d/backoff.conf 644; then units_changed=1; fi
    rm -f "$root/tmp.backoff.$$"
  fi
  put "$deploy/bin/healthcheck.sh" "$lib_dir/healthcheck.sh" 755 || true
  put "$deploy/bin/bangbangui" /usr/local/bin/bangbangui 755 || true
  if put_once "$deploy/udev/99-bangbangui.rules" /etc/udev/rules.d/99-bangbangui.rules 644; then rules_changed=1; fi
  if [ "$kiosk" != none ]; then
    put "$deploy/kiosk/kiosk-browser.sh" "$lib_dir/kiosk-browser.sh" 755 || true
    put "$deploy/chromium-policy.json" /etc/chromium/policies/managed/bangbangui-kiosk.json 644 || true
    if [ "$kiosk" = cage ]; then
      if put "$deploy/systemd/bangbangui-kiosk.service" /etc/systemd/system/bangbangui-kiosk.service 644; then units_changed=1; fi
    else
      put "$deploy/kiosk/kiosk-x11.sh" "$lib_dir/kiosk-x11.sh" 755 || true
      if put "$deploy/systemd/bangbangui-kiosk-x11.service" /etc/systemd/system/bangbangui-kiosk-x11.service 644; then units_changed=1; fi
      # an X server started by a service, not from a console login
      printf 'allowed_users=anybody\nneeds_root_rights=auto\n' >"$root/tmp.xwrapper.$$"
      put "$root/tmp.xwrapper.$$" /etc/X11/Xwrapper.config 644 || true
      rm -f "$root/tmp.xwrapper.$$"
    fi
  fi
}

services() {
  local kiosk_unit=""
  case "$kiosk" in cage) kiosk_unit=bangbangui-kiosk.service ;; x11) kiosk_unit=bangbangui-kiosk-x11.service ;; esac
  if [ "$units_changed" = 1 ]; then run systemctl daemon-reload; fi
  if [ "$rules_changed" = 1 ]; then run udevadm control --reload; fi
  if staging; then
    say "would run: systemctl enable --now bangbangui.service bangbangui-healthcheck.timer $kiosk_unit"
    return
  fi
  for u in bangbangui.service bangbangui-healthcheck.timer $kiosk_unit; do
    if ! systemctl is-enabled --quiet "$u"; then run systemctl enable "$u"; changed=$((changed + 1)); fi
  done
  if [ "$units_changed" = 1 ] && systemctl is-active --quiet bangbangui.service; then
    run systemctl restart bangbangui.service
  fi
  for u in bangbangui.service bangbangui-healthcheck.timer $kiosk_unit; do
    if ! systemctl is-active --quiet "$u"; then run systemctl start "$u"; changed=$((changed + 1)); fi
  done
}

next_steps() {
  cat <<MSG

完成 / Done: $changed changed, $kept already right.

Next steps / 下一步:
  1. Settings: sudo nano /etc/bangbangui/controller.env — LOCK_PORT (the lock board: ls -l /dev/serial/by-id/),
     LOCK_LAYOUT, PUBLIC_URL (now $public_url); then: sudo systemctl restart bangbangui
  2. First administrator PIN (shown once, at the first start):
       sudo journalctl -u bangbangui -o cat | grep -A1 'login: admin'
     Sign in at http://<this PC>:3000/staff as admin and choose a new PIN.
  3. Check everything: sudo bangbangui doctor        (with staff at the cabinet: sudo systemctl stop bangbangui;
     sudo bangbangui doctor --test-doors; sudo systemctl start bangbangui)
  4. Keep a copy of the key apart from the backups: sudo bangbangui backup --key-to /media/<key stick>
  5. Touchscreen: the kiosk shows http://127.0.0.1:3002/kiosk on tty1 (journalctl -u bangbangui-kiosk).
  Logs: journalctl -u bangbangui -o cat -f
MSG
}

do_uninstall() {
  local units=(bangbangui-kiosk.service bangbangui-kiosk-x11.service bangbangui-healthcheck.timer bangbangui-healthcheck.service bangbangui.service)
  for u in "${units[@]}"; do
    if staging; then say "would run: systemctl disable --now $u"
    elif systemctl list-unit-files "$u" >/dev/null 2>&1 && systemctl cat "$u" >/dev/null 2>&1; then run systemctl disable --now "$u" || true; fi
    remove "/etc/systemd/system/$u"
  done
  remove /etc/systemd/system/bangbangui.service.d
  remove "$lib_dir"
  remove /usr/local/bin/bangbangui
  remove /etc/chromium/policies/managed/bangbangui-kiosk.json
  run systemctl daemon-reload
  cat <<MSG

Removed the services ($changed files). Kept, on purpose:
  $data_dir (the database, the key and the backups), /etc/bangbangui (settings),
  /etc/udev/rules.d/99-bangbangui.rules, the users $service_user and $kiosk_user.
To remove them too, after a last backup: sudo rm -r $data_dir /etc/bangbangui; sudo userdel $service_user; sudo userdel -r $kiosk_user
MSG
}

echo "帮办柜 install ($app_dir)"
preflight "$@"
if [ "$uninstall" = 1 ]; then
  do_uninstall
  exit 0
fi
apt_packages
users
build_app
files
services
next_steps
