#!/usr/bin/env bash
# npm run sonic:parity:setup: the Python environment of the Sonic parity harness, in
# .cache/sonic-parity/venv (PyPI: torch, diffusers 0.29.0, transformers 4.43.2, ...; several GB,
# torch's default build carries CUDA libraries and runs on CPU). Not part of deploy/setup.sh, never
# needed by npm test. Idempotent: does nothing once the pins are installed.
set -euo pipefail
cd "$(dirname "$0")/../../.."
venv=.cache/sonic-parity/venv
req=models/sonic/parity/requirements.txt
py=${PYTHON:-python3}
if ! "$py" -c 'import sys; assert sys.version_info >= (3, 9)' 2>/dev/null; then
  echo "sonic:parity:setup: Python >= 3.9 is needed ($py); on Debian: apt-get install python3 python3-venv" >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv" || { echo "sonic:parity:setup: could not create a virtual environment; on Debian: apt-get install python3-venv" >&2; exit 1; }
fi
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet -r "$req"
  echo "$want" > "$stamp"
fi
"$venv/bin/python" -c 'import torch, diffusers, transformers, onnx, onnxruntime; print(f"sonic:parity:setup: ready (torch {torch.__version__}, diffusers {diffusers.__version__}, transformers {transformers.__version__}, onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__})")'
