#!/usr/bin/env bash
# One-shot set-up on Debian bookworm: system packages, then the npm dependencies.
# Idempotent: re-running only installs what is missing. Needs root (or sudo) for apt.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # FFmpeg 5.1 development files: beamcoder (decode / encode / mux) builds against them
  libavcodec-dev libavformat-dev libavdevice-dev libavfilter-dev libswscale-dev libswresample-dev
  pkg-config python3 make g++
  # offline speech for tests, demos and the local TTS fallback
  espeak-ng
  # tests only: a voice the mouth recogniser was never trained on (festival's US diphone voice;
  # nothing listens), and a second portrait photo (matplotlib's sample data: grace_hopper.jpg).
  # A server without the tests: SETUP_WITHOUT="festival festvox-kallpc16k python-matplotlib-data"
  festival festvox-kallpc16k python-matplotlib-data
  # mediasoup 3.12.16's SFU worker, built from these by deploy/build-mediasoup-worker.sh
  meson ninja-build libssl-dev libuv1-dev libsrtp2-dev libusrsctp-dev libabsl-dev nlohmann-json3-dev catch2
  # the kiosk in the end-to-end tests (headless, driven by playwright-core) and on kiosk machines
  chromium
  # BullMQ's queue for batch jobs on several machines (jobs.queue "redis"); the tests start their own
  redis-server
)

need_node_major=20
have_node=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$have_node" -lt "$need_node_major" ]; then
  echo "setup: Node.js >= $need_node_major is required (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "setup: install Node.js 20 LTS (e.g. from nodejs.org or your distribution's backports) and re-run." >&2
  exit 1
fi

# SETUP_WITHOUT="chromium redis-server": packages a server image does not need (see deploy/docker/)
without=" ${SETUP_WITHOUT:-} "
missing=()
for p in "${APT_PACKAGES[@]}"; do
  [[ "$without" == *" $p "* ]] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# onnxruntime-node's install script downloads the CUDA provider; the CPU provider ships inside the
# package, so skip it. The package's own environment variable, not an .npmrc key (npm warns that
# unknown project config keys stop working in its next major version).
export ONNXRUNTIME_NODE_INSTALL=skip
# package.json's allowScripts lets only beamcoder and segfault-handler build (node-gyp).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

# beamcoder 0.7.1 reads freed memory after a failed FFmpeg call (can segfault): patch and rebuild once.
node deploy/patch-beamcoder.mjs
marker=node_modules/beamcoder/build/Release/.reject-status-patched
if [ ! -f "$marker" ] || ! node -e "require('beamcoder')" >/dev/null 2>&1; then
  echo "setup: building beamcoder against the FFmpeg development packages"
  npm rebuild beamcoder segfault-handler --loglevel=error
  node -e "require('beamcoder')" >/dev/null 2>&1 || { echo "setup: beamcoder failed to build" >&2; exit 1; }
  touch "$marker"
fi

# mediasoup's install script (a prebuilt-worker download) is denied in allowScripts: build the
# worker offline into .cache/ (survives npm ci). Does nothing when the cached worker runs.
bash deploy/build-mediasoup-worker.sh

# The kiosk page: bundled (esbuild) into dist/kiosk/, which the server serves. npm start rebuilds it too.
npm run --silent build:kiosk
echo "setup: done"
