"""
Phone timings of recorded speech with a known text, by pocketsphinx's forced alignment (its US
English acoustic model, trained on real recordings; BSD licence), for eval-recorded.ts.

    .cache/asr-venv/bin/python models/mouth-classes/align-recorded.py DIR

DIR holds NAME.wav (16 kHz mono, 16-bit) and NAME.txt (the words spoken) pairs; writes
DIR/phones.json: {"NAME.wav": [{"phone": "M", "word": "mister", "start": s, "end": s}, ...]}
with CMU phones (SIL for silence). models/mouth-classes/eval-librivox.sh sets this up.
Where DIR has its own dictionary (dict.dic and labels.json, from prep-asterisk-lang.ts: another
language's words as English phones), that replaces pocketsphinx's, and each phone gets the
espeak-ng mnemonic that labels it: {"phone": "UW", "espeak": "y", ...}.
"""
import glob
import json
import os
import re
import sys
import wave

from pocketsphinx import Decoder


def main():
    d = sys.argv[1]
    out = {}
    skipped = 0
    own_dict = os.path.join(d, "dict.dic")
    own_dict = own_dict if os.path.exists(own_dict) else None
    labels = json.load(open(os.path.join(d, "labels.json"))) if own_dict else {}
    for wav in sorted(glob.glob(os.path.join(d, "*.wav"))):
        text = open(wav[:-4] + ".txt").read().strip()
        w = wave.open(wav)
        if w.getframerate() != 16000 or w.getnchannels() != 1 or w.getsampwidth() != 2:
            sys.exit(f"{wav}: must be 16 kHz mono 16-bit")
        data = w.readframes(w.getnframes())
        dec = Decoder(samprate=16000, bestpath=False, loglevel="ERROR", **({"dict": own_dict} if own_dict else {}))
        dec.set_align_text(text)
        try:
            dec.start_utt()
            dec.process_raw(data, full_utt=True)
            dec.end_utt()
            dec.set_alignment()
            dec.start_utt()
            dec.process_raw(data, full_utt=True)
            dec.end_utt()
        except RuntimeError as e:
            # the text could not be aligned to the audio (a prompt that says something else): left out
            print(os.path.basename(wav), "not aligned:", e, file=sys.stderr)
            skipped += 1
            continue
        phones = []
        words = iter(labels.get(os.path.basename(wav), []))
        for word in dec.get_alignment():
            # the dictionary's made-up words (w0, w1, ...) in order; silences and fillers have no labels
            own = next(words) if own_dict and re.fullmatch(r"w\d+", word.name) else None
            for k, ph in enumerate(word):
                p = {"phone": ph.name, "word": word.name, "start": ph.start / 100, "end": (ph.start + ph.duration) / 100}
                if own:
                    if own[k][0] != ph.name:
                        sys.exit(f"{wav}: aligned {ph.name} where the dictionary has {own[k][0]}")
                    p["espeak"] = own[k][1]
                phones.append(p)
        out[os.path.basename(wav)] = phones
        print(os.path.basename(wav), " ".join(p["phone"] for p in phones))
    print(f"{len(out)} aligned, {skipped} left out", file=sys.stderr)
    with open(os.path.join(d, "phones.json"), "w") as fh:
        json.dump(out, fh, indent=0)


if __name__ == "__main__":
    main()
