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
  [ -x .cache/asr-venv/bin/python ] || { python3 -m venv .cache/asr-venv && .cache/asr-venv/bin/pip install -q pocketsphinx==5.1.1; }
  # the source archive (pip would build it): its address and sha256 from PyPI's JSON API
  python3 - "$dir/pocketsphinx-5.1.1.tar.gz" <<'PY'
import hashlib, json, sys, urllib.request
meta = json.load(urllib.request.urlopen("https://pypi.org/pypi/pocketsphinx/json"))
sdist = next(u for u in meta["releases"]["5.1.1"] if u["packagetype"] == "sdist")
data = urllib.request.urlopen(sdist["url"]).read()
if hashlib.sha256(data).hexdigest() != sdist["digests"]["sha256"]: sys.exit("pocketsphinx sdist: sha256 mismatch")
open(sys.argv[1], "wb").write(data)
PY
  tar xzf "$dir"/pocketsphinx-5.1.1.tar.gz -C "$dir" --strip-components=4 --wildcards 'pocketsphinx-5.1.1/test/data/librivox/*'
  .cache/asr-venv/bin/python models/mouth-classes/align-recorded.py "$dir"
fi
npx tsx models/mouth-classes/eval-recorded.ts "$dir"
