#!/usr/bin/env bash
# The mouth recogniser on real recorded speech, never trained on: five LibriVox utterances (public
# domain; one reader of "Sense and Sensibility", 22 s of speech, 29 p / b / m) that ship with
# pocketsphinx's source as test data, their phones aligned to the known text by pocketsphinx
# (align-recorded.py). Prints what eval-recorded.ts measures. Needs python3-venv; downloads
# pocketsphinx from PyPI once into .cache/librivox and .cache/asr-venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=.cache/librivox
if [ ! -f "$dir/phones.json" ]; then
  mkdir -p "$dir"
  . models/mouth-classes/asr-venv.sh
  # the source archive (pip would build it): its address and sha256 from PyPI's JSON API
  python3 - "$dir/pocketsphinx-$POCKETSPHINX.tar.gz" "$POCKETSPHINX" <<'PY'
import hashlib, json, sys, urllib.request
meta = json.load(urllib.request.urlopen("https://pypi.org/pypi/pocketsphinx/json"))
sdist = next(u for u in meta["releases"][sys.argv[2]] if u["packagetype"] == "sdist")
data = urllib.request.urlopen(sdist["url"]).read()
if hashlib.sha256(data).hexdigest() != sdist["digests"]["sha256"]: sys.exit("pocketsphinx sdist: sha256 mismatch")
open(sys.argv[1], "wb").write(data)
PY
  tar xzf "$dir/pocketsphinx-$POCKETSPHINX.tar.gz" -C "$dir" --strip-components=4 --wildcards "pocketsphinx-$POCKETSPHINX/test/data/librivox/*"
  "$ASR_PY" models/mouth-classes/align-recorded.py "$dir"
fi
npx tsx models/mouth-classes/eval-recorded.ts "$dir"
