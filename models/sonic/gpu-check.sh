#!/usr/bin/env bash
# Sonic on a GPU: real-size random weights in FP16, per-call times and the frame rates they allow
# (models/sonic/gpu_check.py). One prepared run for the device machine (PyTorch, onnx, no network):
#
#   here:        bash models/sonic/gpu-check.sh prepare
#                (a checkout of the official Sonic repository in .cache/sonic-src, or SONIC_SRC=DIR,
#                 and the wheels the device lacks, in .cache/gpu-wheels: diffusers 0.29.0 with the
#                 huggingface_hub and transformers it works with; about 16 MB)
#   device tool: run(command="bash models/sonic/gpu-check.sh", carry=[".cache/sonic-src", ".cache/gpu-wheels"], timeout_s=540)
#
# Writes $OUT/gpu-check.txt and $OUT/gpu-check.json. Budget: under 10 minutes (building the 1.5 B
# UNet's random weights is most of it). Nothing of the official code or its weights is committed.
set -euo pipefail
cd "$(dirname "$0")/../.."
SRC=${SONIC_SRC:-.cache/sonic-src}
WHEELS=.cache/gpu-wheels
SITE=.cache/gpu-site
PINS=(diffusers==0.29.0 huggingface_hub==0.25.2 transformers==4.43.2 tokenizers==0.19.1)

if [ "${1:-}" = "prepare" ]; then
  [ -f "$SRC/src/pipelines/pipeline_sonic.py" ] || { echo "gpu-check: put a checkout of the official Sonic repository in $SRC (or set SONIC_SRC)" >&2; exit 1; }
  mkdir -p "$WHEELS"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 -d "$WHEELS" "${PINS[@]}"
  du -sh "$WHEELS" "$SRC"
  exit 0
fi

[ -f "$SRC/src/pipelines/pipeline_sonic.py" ] || { echo "gpu-check: no official Sonic source at $SRC: carry it (see the top of this script)" >&2; exit 1; }
[ -d "$WHEELS" ] || { echo "gpu-check: no $WHEELS: run 'bash models/sonic/gpu-check.sh prepare' where the registries are reachable, then carry it" >&2; exit 1; }
OUT=${OUT:-.cache/gpu-check-out}
mkdir -p "$OUT" "$SITE"
python3 -m pip install --quiet --no-index --no-deps --target "$SITE" "$WHEELS"/*.whl
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
PYTHONPATH="$SITE" PYTHONWARNINGS=ignore python3 models/sonic/gpu_check.py --sonic-src "$SRC" --device "${DEVICE:-cuda}" --size "${SIZE:-full}" --out "$OUT/gpu-check.json" 2>&1 | tee "$OUT/gpu-check.txt"
