#!/usr/bin/env sh
# Builds warp.wasm from warp.c and fields.c (committed, so nobody else needs the compiler):
#   apt-get install -y clang lld && sh models/portrait-renderer/warp/build.sh
set -eu
cd "$(dirname "$0")"
clang --target=wasm32 -O3 -msimd128 -mnontrapping-fptoint -nostdlib -fno-builtin -Wall -Wextra \
  -Wl,--no-entry -Wl,--import-memory -Wl,--export=__heap_base -Wl,--strip-all -o warp.wasm warp.c fields.c
ls -l warp.wasm
