#!/usr/bin/env bash
# Recorded speech with a known text for the mouth recogniser: Asterisk's English prompts (one
# professional reader, Allison Smith; CC BY-SA 3.0), from Debian's asterisk-core-sounds-en-g722
# (16 kHz G.722) and asterisk-core-sounds-en (the transcripts). Decoded and filtered by
# prep-asterisk.ts, phones aligned to the text by pocketsphinx (align-recorded.py) into
# .cache/asterisk; then prints what eval-recorded.ts measures on the fifth held out of training.
#
#   bash models/mouth-classes/recorded-asterisk.sh [LANG]
#
# LANG fr, it or ru: the same prompts in that language, by other readers (fr: June Wallack, CC BY-SA
# 3.0; it: Carlo Flora, CC BY 3.0; ru: IvrvoiceRU, CC BY 3.0), phonemised by espeak-ng and aligned
# by the same English acoustic model (prep-asterisk-lang.ts), into .cache/asterisk-LANG. (Spanish
# is Allison Smith again: left out.)
# Needs apt-get download (no root), python3-venv; pocketsphinx from PyPI once into .cache/asr-venv;
# for LANG the espeak-ng command.
set -euo pipefail
cd "$(dirname "$0")/../.."
lang=${1:-en}
case "$lang" in
  en) dir=.cache/asterisk ;;
  fr) dir=.cache/asterisk-fr; subdir=fr_CA_f_June; voice=fr-fr ;;
  it) dir=.cache/asterisk-it; subdir=it_IT_m_Carlo; voice=it ;;
  ru) dir=.cache/asterisk-ru; subdir=ru_RU_f_IvrvoiceRU; voice=ru ;;
  *) echo "recorded-asterisk.sh: LANG is en, fr, it or ru" >&2; exit 2 ;;
esac
if [ ! -f "$dir/phones.json" ]; then
  mkdir -p "$dir/debs"
  . models/mouth-classes/asr-venv.sh
  (cd "$dir/debs" && apt-get download "asterisk-core-sounds-$lang-g722" "asterisk-core-sounds-$lang")
  for deb in "$dir"/debs/*.deb; do dpkg -x "$deb" "$dir/debs/x"; done
  if [ "$lang" = en ]; then
    dict=$("$ASR_PY" -c 'import os, pocketsphinx; print(os.path.join(os.path.dirname(pocketsphinx.__file__), "model/en-us/cmudict-en-us.dict"))')
    npx tsx models/mouth-classes/prep-asterisk.ts "$dir/debs/x" "$dict" "$dir"
  else
    npx tsx models/mouth-classes/prep-asterisk-lang.ts "$dir/debs/x" "$lang" "$subdir" "$voice" "$dir"
  fi
  "$ASR_PY" models/mouth-classes/align-recorded.py "$dir"
fi
npx tsx models/mouth-classes/eval-recorded.ts "$dir" --heldout
