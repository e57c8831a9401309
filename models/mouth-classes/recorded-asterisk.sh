#!/usr/bin/env bash
# Recorded speech with a known text for the mouth recogniser: Asterisk's English prompts (one
# professional reader, Allison Smith; CC BY-SA 3.0), from Debian's asterisk-core-sounds-en-g722
# (16 kHz G.722) and asterisk-core-sounds-en (the transcripts). Decoded and filtered by
# prep-asterisk.ts, phones aligned to the text by pocketsphinx (align-recorded.py) into
# .cache/asterisk; then prints what eval-recorded.ts measures on the fifth held out of training.
# Needs apt-get download (no root), python3-venv; pocketsphinx from PyPI once into .cache/asr-venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=.cache/asterisk
if [ ! -f "$dir/phones.json" ]; then
  mkdir -p "$dir/debs"
  . models/mouth-classes/asr-venv.sh
  (cd "$dir/debs" && apt-get download asterisk-core-sounds-en-g722 asterisk-core-sounds-en)
  for deb in "$dir"/debs/*.deb; do dpkg -x "$deb" "$dir/debs/x"; done
  dict=$("$ASR_PY" -c 'import os, pocketsphinx; print(os.path.join(os.path.dirname(pocketsphinx.__file__), "model/en-us/cmudict-en-us.dict"))')
  npx tsx models/mouth-classes/prep-asterisk.ts "$dir/debs/x" "$dict" "$dir"
  "$ASR_PY" models/mouth-classes/align-recorded.py "$dir"
fi
npx tsx models/mouth-classes/eval-recorded.ts "$dir" --heldout
