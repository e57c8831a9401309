"""
Phone timings of recorded speech with a known text, by pocketsphinx's forced alignment (its US
English acoustic model, trained on real recordings; BSD licence), for eval-recorded.ts.

    .cache/asr-venv/bin/python models/mouth-classes/align-recorded.py DIR

DIR holds NAME.wav (16 kHz mono, 16-bit) and NAME.txt (the words spoken) pairs; writes
DIR/phones.json: {"NAME.wav": [{"phone": "M", "word": "mister", "start": s, "end": s}, ...]}
with CMU phones (SIL for silence). models/mouth-classes/eval-librivox.sh sets this up.
"""
import glob
import json
import os
import sys
import wave

from pocketsphinx import Decoder


def main():
    d = sys.argv[1]
    out = {}
    skipped = 0
    for wav in sorted(glob.glob(os.path.join(d, "*.wav"))):
        text = open(wav[:-4] + ".txt").read().strip()
        w = wave.open(wav)
        if w.getframerate() != 16000 or w.getnchannels() != 1 or w.getsampwidth() != 2:
            sys.exit(f"{wav}: must be 16 kHz mono 16-bit")
        data = w.readframes(w.getnframes())
        dec = Decoder(samprate=16000, bestpath=False, loglevel="ERROR")
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
        for word in dec.get_alignment():
            for ph in word:
                phones.append({"phone": ph.name, "word": word.name, "start": ph.start / 100, "end": (ph.start + ph.duration) / 100})
        out[os.path.basename(wav)] = phones
        print(os.path.basename(wav), " ".join(p["phone"] for p in phones))
    print(f"{len(out)} aligned, {skipped} left out", file=sys.stderr)
    with open(os.path.join(d, "phones.json"), "w") as fh:
        json.dump(out, fh, indent=0)


if __name__ == "__main__":
    main()
