#!/usr/bin/env bash
# Build mediasoup's C++ worker (mediasoup-worker) offline, from Debian bookworm's system libraries.
#
# Why: mediasoup's npm install script downloads a prebuilt worker (or builds with pip + meson wrap
# downloads). Neither works without GitHub/PyPI, so package.json's allowScripts denies that script
# and this step builds the worker instead. The meson subprojects that would be downloaded
# (openssl, libuv, libsrtp2, usrsctp, abseil, nlohmann_json, catch2) are replaced by stand-ins
# that resolve Debian's -dev packages through dependency().
#
# Output: .cache/mediasoup-worker/<version>/mediasoup-worker (outside node_modules, so it survives
# `npm ci`). server/media/mediasoup-worker.ts finds it there (or MEDIASOUP_WORKER_BIN overrides).
#
# Idempotent: if the cached binary exists and starts, nothing is done. Use --force to rebuild.
# Usage: bash deploy/build-mediasoup-worker.sh [--force]
# Needs: `npm ci` done (the worker sources come from node_modules/mediasoup/worker); root or sudo
# when Debian packages are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MEDIASOUP_VERSION_WANTED=3.12.16
CACHE_DIR=$ROOT/.cache/mediasoup-worker/$MEDIASOUP_VERSION_WANTED
BIN=$CACHE_DIR/mediasoup-worker
PKG_DIR=$ROOT/node_modules/mediasoup
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

log() { echo "build-mediasoup-worker: $*"; }
die() { echo "build-mediasoup-worker: ERROR: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
T0=$(now)

# A worker run without MEDIASOUP_VERSION exits with code 41 ("you don't seem to be my real father!")
# right after the dynamic loader has resolved all its shared libraries: a cheap, Node-free proof
# that the binary runs on this machine.
binary_runs() {
  [ -x "$1" ] || return 1
  local rc=0
  env -u MEDIASOUP_VERSION "$1" >/dev/null 2>&1 || rc=$?
  [ "$rc" -eq 41 ]
}

# A real start through mediasoup's own Node API (channel handshake, getResourceUsage, close).
node_spawn_check() {
  [ -f "$PKG_DIR/package.json" ] || return 0   # nothing to check against yet
  MEDIASOUP_WORKER_BIN="$1" timeout 30 node -e '
    const ms = require(process.argv[1]);
    ms.createWorker({ logLevel: "warn" })
      .then(async (w) => { await w.getResourceUsage(); w.close(); process.exit(0); })
      .catch((e) => { console.error(e.message); process.exit(1); });' "$PKG_DIR"
}

if [ "$FORCE" -eq 0 ] && binary_runs "$BIN"; then
  if node_spawn_check "$BIN"; then
    log "cached worker $BIN runs (mediasoup $MEDIASOUP_VERSION_WANTED): nothing to do ($(since "$T0") s)"
    exit 0
  fi
  log "cached worker exists but mediasoup could not start it: rebuilding"
fi

# ---- sources -------------------------------------------------------------------------------------
[ -d "$PKG_DIR/worker" ] || die "$PKG_DIR/worker not found: run 'npm ci' first (mediasoup $MEDIASOUP_VERSION_WANTED must be installed)"
have_version=$(node -p "require('$PKG_DIR/package.json').version")
[ "$have_version" = "$MEDIASOUP_VERSION_WANTED" ] || \
  die "node_modules has mediasoup $have_version, this step builds $MEDIASOUP_VERSION_WANTED (stand-in subprojects are specific to it): check package.json / npm ci"

# ---- Debian build dependencies (installed only if missing) ---------------------------------------
APT_BUILD_DEPS=(meson ninja-build pkg-config g++ libssl-dev libuv1-dev libsrtp2-dev libusrsctp-dev
  libabsl-dev nlohmann-json3-dev catch2)
missing=()
for p in "${APT_BUILD_DEPS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  T=$(now)
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null; then
    die "Debian packages missing (${missing[*]}) and not root, no sudo: install them and re-run"
  fi
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
  log "Debian packages installed in $(since "$T") s"
fi
meson_version=$(meson --version)
dpkg --compare-versions "$meson_version" ge 1.0.0 || die "meson >= 1.0.0 needed, found $meson_version"

# ---- copy the worker sources out of node_modules (npm's copy stays pristine) ---------------------
mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.lock"
flock 9 || die "cannot lock $CACHE_DIR/.lock"
SRC=$CACHE_DIR/src
BUILD=$CACHE_DIR/build
rm -rf "$SRC" "$BUILD"
cp -a "$PKG_DIR/worker" "$SRC"
rm -rf "$SRC/out"

# ---- stand-in subprojects: same directory names and variables as mediasoup's wraps ----------------
SUB=$SRC/subprojects
for wrap_dir in openssl-3.0.8 libuv-v1.44.2 libsrtp-2.5.0 usrsctp-4e06feb01cadcd127d119486b98a4bd3d64aa1e7 \
    nlohmann_json-3.10.5 abseil-cpp-20220623.0 Catch2-2.13.7; do
  grep -q "^directory = $wrap_dir\$" "$SUB"/*.wrap || die "mediasoup's wraps no longer name $wrap_dir: stand-ins need updating"
done
shim() { mkdir -p "$SUB/$1"; echo "int ms_shim_$2(void){return 0;}" > "$SUB/$1/dummy.c"; cat > "$SUB/$1/meson.build"; }
shim openssl-3.0.8 ssl <<'M'
project('openssl', 'c')
openssl_dep = dependency('openssl', version: '>=3.0')
libcrypto_lib = static_library('shim_crypto', 'dummy.c')
libssl_lib = static_library('shim_ssl', 'dummy.c')
M
shim libuv-v1.44.2 uv <<'M'
project('libuv', 'c')
libuv_dep = dependency('libuv', version: '>=1.44')
libuv = static_library('shim_uv', 'dummy.c')
M
printf "option('build_tests', type: 'boolean', value: false)\noption('build_benchmarks', type: 'boolean', value: false)\n" \
  > "$SUB/libuv-v1.44.2/meson_options.txt"
shim libsrtp-2.5.0 srtp <<'M'
project('libsrtp2', 'c')
libsrtp2_dep = declare_dependency(dependencies: dependency('libsrtp2', version: '>=2.5.0'), compile_args: ['-I/usr/include/srtp2'])
libsrtp2 = static_library('shim_srtp', 'dummy.c')
M
printf "option('crypto-library', type: 'string', value: 'openssl')\noption('crypto-library-kdf', type: 'string', value: 'disabled')\noption('tests', type: 'string', value: 'disabled')\n" \
  > "$SUB/libsrtp-2.5.0/meson_options.txt"
shim usrsctp-4e06feb01cadcd127d119486b98a4bd3d64aa1e7 sctp <<'M'
project('usrsctp', 'c')
usrsctp_dep = dependency('usrsctp')
usrsctp = static_library('shim_usrsctp', 'dummy.c')
M
printf "option('sctp_build_programs', type: 'boolean', value: false)\n" \
  > "$SUB/usrsctp-4e06feb01cadcd127d119486b98a4bd3d64aa1e7/meson_options.txt"
shim nlohmann_json-3.10.5 json <<'M'
project('nlohmann_json', 'cpp')
nlohmann_json_dep = dependency('nlohmann_json')
M
shim abseil-cpp-20220623.0 absl <<'M'
project('abseil-cpp', 'c', 'cpp')
absl_container_dep = declare_dependency(dependencies: [dependency('absl_flat_hash_map'), dependency('absl_flat_hash_set'), dependency('absl_btree'), dependency('absl_inlined_vector'), dependency('absl_raw_hash_set'), dependency('absl_hash'), dependency('absl_memory')])
absl_strings_dep = dependency('absl_strings')
absl_types_dep = declare_dependency(dependencies: [dependency('absl_optional'), dependency('absl_variant')])
absl_container_lib = static_library('shim_absl', 'dummy.c')
M
shim Catch2-2.13.7 catch <<'M'
project('catch2', 'cpp')
catch2_dep = dependency('catch2')
M
# Debian bookworm ships meson 1.0.1; mediasoup 3.12.16 asks for >= 1.1.0 but builds with 1.0.
sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 1.0.0'/" "$SRC/meson.build"

# ---- configure and build -------------------------------------------------------------------------
T=$(now)
log "configuring (meson $meson_version) in $BUILD"
meson setup "$BUILD" "$SRC" --buildtype release -Db_ndebug=true -Db_pie=true -Db_staticpic=true \
  --wrap-mode=nodownload > "$CACHE_DIR/meson-setup.log" 2>&1 \
  || { tail -n 30 "$CACHE_DIR/meson-setup.log" >&2; die "meson setup failed (full log: $CACHE_DIR/meson-setup.log)"; }
log "configured in $(since "$T") s"
T=$(now)
log "compiling with ninja ($(nproc) cores; about 7.5 min on 2 cores, once)"
ninja -C "$BUILD" mediasoup-worker > "$CACHE_DIR/ninja.log" 2>&1 \
  || { tail -n 40 "$CACHE_DIR/ninja.log" >&2; die "ninja build failed (full log: $CACHE_DIR/ninja.log)"; }
log "compiled in $(since "$T") s"

# ---- install into the cache, verify, clean up ----------------------------------------------------
install -m 0755 "$BUILD/mediasoup-worker" "$BIN.tmp"
strip "$BIN.tmp" 2>/dev/null || true
binary_runs "$BIN.tmp" || { ldd "$BIN.tmp" >&2 || true; die "the built worker does not start (see ldd above)"; }
mv -f "$BIN.tmp" "$BIN"
node_spawn_check "$BIN" || die "mediasoup could not start the built worker $BIN"
printf 'mediasoup %s\nbuilt %s\nmeson %s\n' "$MEDIASOUP_VERSION_WANTED" "$(date -u +%FT%TZ)" "$meson_version" > "$CACHE_DIR/BUILD-INFO"
rm -rf "$SRC" "$BUILD"
log "installed $BIN ($(du -h "$BIN" | cut -f1)) in $(since "$T0") s total"
