/**
 * The mouth recogniser (pipeline/phonemes/mouth-recogniser.ts) on recorded speech with known phone
 * timings (phones.json from align-recorded.py: CMU phones), measured per p / b / m phone:
 * - heard near: a closure named within 20 ms of the phone;
 * - middle frame closed: the 25 fps frame at the phone's middle shows a closure (PhoneMouth, as the
 *   live path shapes the mouth): what the face-mesh test (test/integration/phoneme-lips.test.ts) reads;
 * and the closure time named away from any p / b / m.
 *
 *   npx tsx models/mouth-classes/eval-recorded.ts DIR... [--heldout] [--quiet]
 *
 * (models/mouth-classes/eval-librivox.sh and recorded-asterisk.sh set DIR up; --heldout: only the
 * utterances make-data.ts leaves out of training, recorded.ts). Several DIRs: each one's line, then
 * their sum.
 *
 * MOUTH_BIAS=x replaces the model's closure bias (to compare operating points).
 */
import { loadMouthModel } from '../../pipeline/phonemes/mouth-recogniser.js';
import { addCounts, closureCounts, type ClosureCounts } from './closure-counts.js';
import { readRecorded } from './recorded.js';

const dirs = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (dirs.length === 0) throw new Error('usage: npx tsx models/mouth-classes/eval-recorded.ts DIR... [--heldout] [--quiet] (DIR/phones.json from align-recorded.py)');
const heldOnly = process.argv.includes('--heldout');
const model = loadMouthModel();
if (process.env.MOUTH_BIAS !== undefined) model.closedBias = Number(process.env.MOUTH_BIAS);
const quiet = process.argv.includes('--quiet');

function summary({ total, near, middle, closedS, awayS, awaySpeechS, speechS }: ClosureCounts): string {
  const pc = (n: number) => `${n}/${total} (${((100 * n) / total).toFixed(0)} %)`;
  return `p/b/m heard near ${pc(near)}, middle frame closed ${pc(middle)}; closures named ${(closedS * 1000).toFixed(0)} ms, ${(awayS * 1000).toFixed(0)} ms of them away from any p/b/m (${(awaySpeechS * 1000).toFixed(0)} ms inside other sounds than pauses), in ${speechS.toFixed(1)} s of speech`;
}

let sum: ClosureCounts | undefined;
for (const dir of dirs) {
  let all: ClosureCounts | undefined;
  for (const { name, samples, phones, heldOut } of readRecorded(dir)) {
    if (heldOnly && !heldOut) continue;
    const n = closureCounts(model, samples, phones);
    all = all ? addCounts(all, n) : n;
    if (!quiet) console.log(`${name}: ${n.marks.join(' ')}`);
  }
  if (!all) throw new Error(`${dir}: no utterances`);
  sum = sum ? addCounts(sum, all) : all;
  if (dirs.length > 1) console.log(`${dir}: ${summary(all)}`);
}
console.log(`(# middle frame closed, + heard near only, - missed; closure bias ${model.closedBias})`);
console.log(`${dirs.length > 1 ? 'all: ' : ''}${summary(sum!)}`);
