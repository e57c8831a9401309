#!/usr/bin/env bash
# The kiosk machine's browser: Chromium in kiosk mode (full screen, no UI) on the server's kiosk
# URL, started again whenever it exits or crashes (1 s, then up to 30 s between tries while it keeps
# failing quickly). Run it from the kiosk user's desktop session (autostart) or its systemd user unit.
#
#   KIOSK_URL='https://avatar.hall.local:8080/kiosk/#token=...' deploy/kiosk/kiosk-launcher.sh
#
# Environment: KIOSK_URL (required), KIOSK_BROWSER (default: chromium), KIOSK_PROFILE (profile
# folder, default ~/.cache/kiosk-avatar-profile, wiped at each start so no crash dialog or stale
# state survives), KIOSK_EXTRA_FLAGS, KIOSK_MAX_RESTARTS (0 = forever; for tests).
set -uo pipefail

url="${KIOSK_URL:?set KIOSK_URL to the kiosk URL the server printed (with its #token=...)}"
browser="${KIOSK_BROWSER:-chromium}"
profile="${KIOSK_PROFILE:-${HOME:-/tmp}/.cache/kiosk-avatar-profile}"
max="${KIOSK_MAX_RESTARTS:-0}"

command -v "$browser" >/dev/null 2>&1 || { echo "kiosk-launcher: $browser not found (apt-get install chromium, or set KIOSK_BROWSER)" >&2; exit 2; }

flags=(
  --kiosk "--app=$url"
  --noerrdialogs --disable-infobars --no-first-run --disable-session-crashed-bubble
  --disable-translate --disable-features=Translate,TranslateUI
  --autoplay-policy=no-user-gesture-required
  --check-for-update-interval=31536000 --disable-component-update --disable-background-networking
  --disable-sync --overscroll-history-navigation=0 --disable-pinch
  "--user-data-dir=$profile"
)
# shellcheck disable=SC2206
extra=(${KIOSK_EXTRA_FLAGS:-})

stop=0
trap 'stop=1; kill "${pid:-0}" 2>/dev/null' TERM INT
delay=1
starts=0
while [ "$stop" -eq 0 ]; do
  rm -rf "$profile"
  starts=$((starts + 1))
  started=$(date +%s)
  echo "kiosk-launcher: starting $browser (start $starts) on ${url%%#*}"
  "$browser" "${flags[@]}" "${extra[@]}" &
  pid=$!
  wait "$pid"
  code=$?
  [ "$stop" -eq 1 ] && break
  echo "kiosk-launcher: $browser exited with $code"
  if [ "$max" -gt 0 ] && [ "$starts" -gt "$max" ]; then echo "kiosk-launcher: $max restarts done, stopping" >&2; exit 1; fi
  # a browser that ran a while restarts at once; one that keeps dying backs off up to 30 s
  if [ $(( $(date +%s) - started )) -ge 60 ]; then delay=1; else delay=$(( delay * 2 > 30 ? 30 : delay * 2 )); fi
  sleep "$delay"
done
