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
import { loadMouthModel } from '../../pipeline/phonemes/mouth-recogniser.js';
import { espeakSpeak } from '../../pipeline/phonemes/espeak-phones.js';
import { addCounts, closureCounts } from './closure-counts.js';

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
const { total, near, middle, awaySpeechS, speechS } = SENTENCES.map((text) => {
  const sp = espeakSpeak(text, 'cmn-latn-pinyin', 150);
  return closureCounts(model, resample(sp.samples, sp.sampleRate, 16_000), sp.phones);
}).reduce(addCounts);
const pc = (n: number) => `${n}/${total} (${((100 * n) / total).toFixed(0)} %)`;
console.log(`Mandarin, closure bias ${model.closedBias}: b/p/m heard near ${pc(near)}, middle frame closed ${pc(middle)}; closures inside other sounds ${(awaySpeechS * 1000).toFixed(0)} ms in ${speechS.toFixed(1)} s of speech`);
