# Sourced by the scripts that align recorded speech (recorded-asterisk.sh, eval-librivox.sh), from
# the repository root: pocketsphinx from PyPI, once, into .cache/asr-venv. Sets ASR_PY (its python)
# and POCKETSPHINX (the version pinned).
POCKETSPHINX=5.1.1
ASR_PY=.cache/asr-venv/bin/python
[ -x "$ASR_PY" ] || { python3 -m venv .cache/asr-venv && .cache/asr-venv/bin/pip install -q "pocketsphinx==$POCKETSPHINX"; }
