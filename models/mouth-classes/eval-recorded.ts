/**
 * The mouth recogniser (pipeline/phonemes/mouth-recogniser.ts) on recorded speech with known phone
 * timings (phones.json from align-recorded.py: CMU phones), measured per p / b / m phone:
 * - heard near: a closure named within 20 ms of the phone;
 * - middle frame closed: the 25 fps frame at the phone's middle shows a closure (PhoneMouth, as the
 *   live path shapes the mouth): what the face-mesh test (test/integration/phoneme-lips.test.ts) reads;
 * and the closure time named away from any p / b / m.
 *
 *   npx tsx models/mouth-classes/eval-recorded.ts DIR [--heldout] [--quiet]
 *
 * (models/mouth-classes/eval-librivox.sh and recorded-asterisk.sh set DIR up; --heldout: only the
 * utterances make-data.ts leaves out of training, recorded.ts)
 *
 * MOUTH_BIAS=x replaces the model's closure bias (to compare operating points).
 */
import { PhoneMouth } from '../../pipeline/motion/phone-mouth.js';
import { loadMouthModel, MouthRecogniser } from '../../pipeline/phonemes/mouth-recogniser.js';
import { mouthClass, type TimedPhone } from '../../pipeline/phonemes/phones.js';
import { readRecorded } from './recorded.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: npx tsx models/mouth-classes/eval-recorded.ts DIR [--heldout] [--quiet] (DIR/phones.json from align-recorded.py)');
const heldOnly = process.argv.includes('--heldout');
const model = loadMouthModel();
if (process.env.MOUTH_BIAS !== undefined) model.closedBias = Number(process.env.MOUTH_BIAS);
const NEAR = 0.02;
const FPS = 25;
const quiet = process.argv.includes('--quiet');
let total = 0, near = 0, middle = 0, closedS = 0, awayS = 0, awaySpeechS = 0, speechS = 0;
for (const { name, samples, phones, heldOut } of readRecorded(dir)) {
  if (heldOnly && !heldOut) continue;
  const rec = new MouthRecogniser(model);
  const named = [...rec.push(samples), ...rec.pushSilence(16_000)];
  const closures = named.filter((p) => mouthClass(p.phone) === 'closed');
  const mouth = new PhoneMouth();
  mouth.add(named, 0);
  const marks: string[] = [];
  const isNear = (c: TimedPhone, p: TimedPhone) => c.end > p.start - NEAR && c.start < p.end + NEAR;
  for (const p of phones) {
    if (mouthClass(p.phone) !== 'pause') speechS += p.end - p.start;
    if (mouthClass(p.phone) !== 'closed') continue;
    total++;
    const heard = closures.some((c) => isNear(c, p));
    const k = Math.floor(((p.start + p.end) / 2) * FPS);
    const shown = mouth.shape(k / FPS, (k + 1) / FPS)?.closed ?? false;
    if (heard) near++;
    if (shown) middle++;
    marks.push(`${p.phone}${heard ? (shown ? '#' : '+') : '-'}`);
  }
  for (const c of closures) {
    closedS += c.end - c.start;
    if (phones.some((p) => mouthClass(p.phone) === 'closed' && isNear(c, p))) continue;
    awayS += c.end - c.start;
    // (lips closed in a pause are no error: only those inside other speech sounds)
    const mid = (c.start + c.end) / 2;
    if (phones.some((p) => mouthClass(p.phone) !== 'pause' && mid >= p.start && mid < p.end)) awaySpeechS += c.end - c.start;
  }
  if (!quiet) console.log(`${name}: ${marks.join(' ')}`);
}
const pc = (n: number) => `${n}/${total} (${((100 * n) / total).toFixed(0)} %)`;
console.log(`(# middle frame closed, + heard near only, - missed; closure bias ${model.closedBias})`);
console.log(`p/b/m heard near ${pc(near)}, middle frame closed ${pc(middle)}; closures named ${(closedS * 1000).toFixed(0)} ms, ${(awayS * 1000).toFixed(0)} ms of them away from any p/b/m (${(awaySpeechS * 1000).toFixed(0)} ms inside other sounds than pauses), in ${speechS.toFixed(1)} s of speech`);
