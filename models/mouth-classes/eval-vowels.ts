/**
 * The mouth recogniser's vowels on recorded speech with known phones (phones.json, as
 * eval-recorded.ts): the group it names (rounded, spread, open, mid) at the middle of each
 * monophthong, and at 30 % and 85 % of each diphthong's time against its first and last part
 * (phones.ts mouthParts: "aI" open then spread), as the say path shapes them.
 *
 *   npx tsx models/mouth-classes/eval-vowels.ts DIR[:heldout] ...
 *
 * (DIR:heldout: only the utterances make-data.ts leaves out of training.) FESTIVAL_VOICES=a,b adds
 * festival's voices speaking ten sentences (the phoneme test's first) (festival and the voices installed by hand).
 */
import { resample } from '../../pipeline/audio/resampler.js';
import { MouthRecogniser, loadMouthModel } from '../../pipeline/phonemes/mouth-recogniser.js';
import { mouthClass, mouthParts, type TimedPhone } from '../../pipeline/phonemes/phones.js';
import { readRecorded } from './recorded.js';

const SENTENCES = [
  'Bob put the map and a bubble pump by the window, and my mom paid the bank for a room with a view of the moon.',
  'Please bring the blue paper to the main desk before the meeting ends.',
  'My brother bought a big lamp and a map of the harbour.',
  'The baby played with a plump purple ball by the pool.',
  'Remember to stamp the permit and put the number on the back.',
  'Maybe the museum opens at seven, but the problem is the parking.',
  'We mostly keep the bikes behind the building by the main gate.',
  'Both members promised to bring some apples from the market.',
  'Go home now, and find out how the boat floats on the flowing river.',
  'I like to ride my bike at night, and we might fly out of town by noon.',
];
const GROUP: Record<string, string> = { rounded: 'rounded', 'round-open': 'rounded', spread: 'spread', 'spread-open': 'spread', open: 'open', mid: 'mid' };
const model = loadMouthModel();

function measure(label: string, utts: { samples: Float32Array; phones: TimedPhone[] }[]): void {
  const counts = new Map<string, [number, number]>();
  const add = (key: string, ok: boolean) => {
    const c = counts.get(key) ?? [0, 0];
    counts.set(key, [c[0] + (ok ? 1 : 0), c[1] + 1]);
  };
  for (const u of utts) {
    const rec = new MouthRecogniser(model);
    const named = [...rec.push(u.samples), ...rec.pushSilence(16_000)];
    const groupAt = (t: number) => {
      const n = named.find((p) => t >= p.start && t < p.end);
      return n ? GROUP[mouthClass(n.phone)] : undefined;
    };
    for (const p of u.phones) {
      const g = GROUP[mouthClass(p.phone)];
      if (!g) continue;
      const parts = mouthParts(p.phone);
      const d = p.end - p.start;
      if (parts.length === 1) {
        add(`monophthongs ${g}`, groupAt(p.start + d / 2) === g);
        continue;
      }
      add(`diphthongs start ${GROUP[parts[0]!.cls]}`, groupAt(p.start + 0.3 * d) === GROUP[parts[0]!.cls]);
      add(`diphthongs end ${GROUP[parts[parts.length - 1]!.cls]}`, groupAt(p.start + 0.85 * d) === GROUP[parts[parts.length - 1]!.cls]);
    }
  }
  console.log(`${label}: ${[...counts].sort().map(([k, [a, b]]) => `${k} ${a}/${b}`).join(', ')}`);
}

const dirs = process.argv.slice(2);
if (dirs.length === 0 && !process.env.FESTIVAL_VOICES) throw new Error('usage: npx tsx models/mouth-classes/eval-vowels.ts DIR[:heldout] ... (DIR/phones.json from align-recorded.py)');
for (const arg of dirs) {
  const [dir, only] = arg.split(':');
  measure(arg, readRecorded(dir!).filter((u) => only !== 'heldout' || u.heldOut));
}
if (process.env.FESTIVAL_VOICES) {
  const { festivalSpeak } = await import('../../test/helpers/festival.js');
  for (const voice of process.env.FESTIVAL_VOICES.split(',')) {
    measure(voice, SENTENCES.map((s) => {
      const sp = festivalSpeak(s, voice);
      return { samples: resample(sp.samples, sp.sampleRate, 16_000), phones: sp.phones };
    }));
  }
}
