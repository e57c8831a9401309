/**
 * One batch job, in a process of its own (forked by job-runner.ts), so that a stuck or crashed
 * render is killed without touching the server or the worker that started it.
 *
 * IPC in:  { jobDir, input, config }
 * IPC out: { type: 'stage', name, ms } | { type: 'progress', done, total } | { type: 'done', result } | { type: 'error', message }
 * A text job is spoken first (the server's TTS chain: upstream with espeak-ng as the fallback),
 * sentence by sentence with short pauses, into speech.wav in the job folder.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TimedPhone } from '../../pipeline/phonemes/phones.js';
import type { Config } from '../../config/schema.js';
import { concatSamples } from '../../pipeline/audio/pcm.js';
import { resample } from '../../pipeline/audio/resampler.js';
import { encodeWavS16 } from '../../pipeline/audio/wav.js';
import { renderToMp4 } from '../../pipeline/render/render-file.js';
import { createLogger } from '../log.js';
import { EspeakTts } from '../voice/espeak-tts.js';
import { splitSentences } from '../voice/sentences.js';
import { TtsRouter } from '../voice/tts-router.js';
import { UpstreamTts } from '../voice/upstream-tts.js';
import type { JobInput } from './job-store.js';

export interface ChildRequest {
  jobDir: string;
  input: JobInput;
  config: Config;
}

export type ChildMessage =
  | { type: 'stage'; name: string; ms: number; detail?: Record<string, unknown> }
  | { type: 'progress'; done: number; total: number }
  | { type: 'done'; result: { durationSec: number; frames: number; width: number; height: number; fps: number; bytes: number; wallSec: number; stagesMs: Record<string, number> } }
  | { type: 'error'; message: string };

const send = (m: ChildMessage) => process.send?.(m);
const PAUSE_SEC = 0.25;

async function speak(text: string, config: Config): Promise<{ wav: Uint8Array; providers: Record<string, number>; phones: TimedPhone[] }> {
  const v = config.voice;
  const local = new EspeakTts(v.local);
  const tts = new TtsRouter({
    upstream: v.upstream.url ? new UpstreamTts(v.upstream) : undefined,
    local,
    probeIntervalMs: v.upstream.probe_interval_ms,
    log: createLogger('silent'),
    align: (t, audio) => local.alignPhones(t, audio),
  });
  try {
    const signal = new AbortController().signal;
    const parts: Float32Array[] = [];
    let rate = 0;
    const providers: Record<string, number> = {};
    // the phones of every sentence that came with them, on the whole text's clock
    const phones: TimedPhone[] = [];
    let at = 0;
    for (const sentence of splitSentences(text, v.sentence_max_chars)) {
      const a = await tts.speak(sentence, signal);
      providers[a.provider] = (providers[a.provider] ?? 0) + 1;
      rate ||= a.sampleRate;
      const samples = a.sampleRate === rate ? a.samples : resample(a.samples, a.sampleRate, rate);
      for (const p of a.phones ?? []) phones.push({ phone: p.phone, start: at + p.start, end: at + p.end });
      parts.push(samples, new Float32Array(Math.round(PAUSE_SEC * rate)));
      at += (samples.length + Math.round(PAUSE_SEC * rate)) / rate;
    }
    return { wav: encodeWavS16(concatSamples(parts), rate), providers, phones };
  } finally {
    tts.close();
  }
}

async function run(req: ChildRequest): Promise<void> {
  const { jobDir, input, config } = req;
  let audio = input.audio ? join(jobDir, input.audio) : '';
  let phones: TimedPhone[] | undefined;
  if (!audio) {
    const t0 = performance.now();
    const spoken = await speak(input.text ?? '', config);
    audio = join(jobDir, 'speech.wav');
    writeFileSync(audio, spoken.wav);
    phones = spoken.phones;
    send({ type: 'stage', name: 'tts', ms: performance.now() - t0, detail: { providers: spoken.providers, phones: spoken.phones.length } });
  }
  const out = join(jobDir, 'video.mp4');
  let last = 0;
  const r = await renderToMp4({
    audio,
    portrait: join(jobDir, input.portrait),
    out,
    config,
    phones,
    onProgress: (done, total) => {
      const now = performance.now();
      if (now - last >= 250 || done === total) {
        last = now;
        send({ type: 'progress', done, total });
      }
    },
  });
  send({
    type: 'done',
    result: { durationSec: r.durationSec, frames: r.frames, width: r.width, height: r.height, fps: r.fps, bytes: statSync(out).size, wallSec: r.wallSec, stagesMs: r.stages },
  });
}

process.once('message', (req: ChildRequest) => {
  run(req).then(
    () => process.exit(0),
    (e: unknown) => {
      send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      // let the message leave before exiting
      setTimeout(() => process.exit(1), 50);
    },
  );
});
