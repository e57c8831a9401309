/**
 * The mouth recogniser on Mandarin (espeak-ng `cmn-latn-pinyin`, which nothing was trained on: the
 * recogniser learnt English voices only), per b / p / m initial, as eval-recorded.ts counts on
 * recorded English: a closure named within 20 ms, the 25 fps frame at the phone's middle closed
 * (PhoneMouth, as the live path shapes it), and the closure time named inside other sounds.
 *
 *   npx tsx models/mouth-classes/eval-mandarin.ts        (MOUTH_BIAS=x replaces the model's closure bias)
 *
 * The first sentence is the phoneme test's (test/integration/phoneme-lips.test.ts).
 */
import { resample } from '../../pipeline/audio/resampler.js';
import { PhoneMouth } from '../../pipeline/motion/phone-mouth.js';
import { MouthRecogniser, loadMouthModel } from '../../pipeline/phonemes/mouth-recogniser.js';
import { mouthClass, type TimedPhone } from '../../pipeline/phonemes/phones.js';
import { espeakSpeak } from '../../pipeline/phonemes/espeak-phones.js';

const SENTENCES = [
  '爸爸买了白面包，不怕麻烦。',
  '妈妈把报纸放在门边。',
  '请把表格拿到百货部门办理。',
  '明天北方白天有暴雨，别忘了带伞。',
  '病人排队，不要拥挤，谢谢配合。',
  '这里不能拍照，请保持安静。',
  '我们马上帮您办好，请稍等片刻。',
  '爬山跑步都不怕麻烦。',
];
const model = loadMouthModel();
if (process.env.MOUTH_BIAS !== undefined) model.closedBias = Number(process.env.MOUTH_BIAS);
const FPS = 25;
const NEAR = 0.02;
let total = 0, near = 0, middle = 0, awayS = 0, speechS = 0;
for (const text of SENTENCES) {
  const sp = espeakSpeak(text, 'cmn-latn-pinyin', 150);
  const rec = new MouthRecogniser(model);
  const named = [...rec.push(resample(sp.samples, sp.sampleRate, 16_000)), ...rec.pushSilence(16_000)];
  const closures = named.filter((p) => mouthClass(p.phone) === 'closed');
  const mouth = new PhoneMouth();
  mouth.add(named, 0);
  const isNear = (c: TimedPhone, p: TimedPhone) => c.end > p.start - NEAR && c.start < p.end + NEAR;
  for (const p of sp.phones) {
    if (mouthClass(p.phone) !== 'pause') speechS += p.end - p.start;
    if (mouthClass(p.phone) !== 'closed') continue;
    total++;
    if (closures.some((c) => isNear(c, p))) near++;
    const k = Math.floor(((p.start + p.end) / 2) * FPS);
    if (mouth.shape(k / FPS, (k + 1) / FPS)?.closed) middle++;
  }
  for (const c of closures) {
    if (sp.phones.some((p) => mouthClass(p.phone) === 'closed' && isNear(c, p))) continue;
    const mid = (c.start + c.end) / 2;
    if (sp.phones.some((p) => mouthClass(p.phone) !== 'pause' && mid >= p.start && mid < p.end)) awayS += c.end - c.start;
  }
}
const pc = (n: number) => `${n}/${total} (${((100 * n) / total).toFixed(0)} %)`;
console.log(`Mandarin, closure bias ${model.closedBias}: b/p/m heard near ${pc(near)}, middle frame closed ${pc(middle)}; closures inside other sounds ${(awayS * 1000).toFixed(0)} ms in ${speechS.toFixed(1)} s of speech`);
