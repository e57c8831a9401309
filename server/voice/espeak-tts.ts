/**
 * The local TTS engine that works with no network: espeak-ng (Debian package).
 *
 * With the default command (`espeak-ng`) a sentence is spoken by the package's library,
 * libespeak-ng, in a worker thread (pipeline/phonemes/espeak-library.ts): the audio comes with the
 * phones espeak-ng spoke and when, so the mouth follows the phones (issue 18). Without the library,
 * or with another `command` (a wrapper, another build), one process per sentence: the text on
 * stdin (never on the command line), WAV on stdout (22050 Hz mono s16, with a streaming
 * placeholder size that the WAV parser accepts), and no phones.
 */
import { execFile, spawn } from 'node:child_process';
import { decodeWavSamples, parseWavHeader } from '../../pipeline/audio/wav.js';
import type { VoiceConfig } from '../../config/schema.js';
import { abortError, TtsError, type SpeechAudio, type TtsProvider } from './tts-provider.js';
import { alignWithLibrary, EspeakLibraryError, speakWithLibrary } from '../../pipeline/phonemes/espeak-library.js';
import type { TimedPhone } from '../../pipeline/phonemes/phones.js';

/** A warp's mean frame distance above this: the audio likely does not say the text (align.ts; measured 16-36 for the same text in other voices, 47-52 for another text). */
const ALIGN_MAX_COST = 42;

/** The espeak-ng command writes this much silence after a sentence (at 22050 Hz); the library's audio gets it too, so sentences keep their pauses. */
const SENTENCE_TAIL_SECONDS = 7144 / 22050;

const MAX_WAV_BYTES = 64 << 20;

export class EspeakTts implements TtsProvider {
  readonly name = 'local' as const;

  constructor(private readonly opts: VoiceConfig['local']) {}

  /**
   * Checks the command runs and knows the voice (espeak-ng falls back to its default voice, silently,
   * for a name it does not know). Rejects with a TtsError saying what to install or change.
   */
  check(voice = this.opts.voice): Promise<void> {
    const { command } = this.opts;
    return new Promise((resolve, reject) => {
      execFile(command, ['--voices'], { timeout: 5000, maxBuffer: 1 << 20 }, (err, stdout) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          return reject(new TtsError(code === 'ENOENT' ? `${command} is not installed: apt-get install -y espeak-ng` : `${command} --voices failed: ${err.message}`, code === 'ENOENT' ? 'missing' : 'process', { cause: err }));
        }
        const base = voice.split('+')[0]!.toLowerCase(); // "en-us+f3": a voice with a variant
        const known = stdout.split('\n').slice(1).some((line) => {
          const [, language, , name, file] = line.trim().split(/\s+/);
          return [language, name, file].some((x) => x?.toLowerCase() === base);
        });
        if (!known) return reject(new TtsError(`${command} has no voice "${voice}" (voice.local.voice): list them with ${command} --voices`, 'process'));
        resolve();
      });
    });
  }

  /** false once the library failed to load: the command serves from then on */
  private libraryUsable = true;

  /** Whether sentences go through libespeak-ng (audio with phones) rather than the command. */
  private get viaLibrary(): boolean {
    return this.opts.command === 'espeak-ng' && this.libraryUsable;
  }

  /**
   * Phones for another TTS's audio of `text` (an upstream without its own timings): espeak-ng says
   * the text in this provider's voice and its phones are carried onto the audio by time warping
   * (pipeline/phonemes/align.ts). Undefined when the library is not in use, the voice's language
   * does not match the audio (the warp is poor), or anything fails: the loudness path then shapes
   * the mouth, as before.
   */
  async alignPhones(text: string, audio: { samples: Float32Array; sampleRate: number }): Promise<TimedPhone[] | undefined> {
    if (!this.viaLibrary) return undefined;
    try {
      const { phones, cost } = await alignWithLibrary(text, this.opts.voice, this.opts.rate_wpm, audio, this.opts.timeout_ms);
      return cost <= ALIGN_MAX_COST && phones.length > 0 ? phones : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Starts the library's thread and loads the voice, so the first sentence a visitor hears does
   * not wait for it (about 0.3 s once). Never rejects: a library that cannot load leaves the command.
   */
  async warmUp(voice = this.opts.voice): Promise<void> {
    if (!this.viaLibrary) return;
    await this.synthesize('Ready.', new AbortController().signal, voice).catch(() => undefined);
  }

  synthesize(text: string, signal: AbortSignal, voice = this.opts.voice): Promise<SpeechAudio> {
    if (!this.viaLibrary) return this.synthesizeWithCommand(text, signal, voice);
    return this.synthesizeWithLibrary(text, signal, voice).catch((e: unknown) => {
      if (e instanceof EspeakLibraryError && e.kind === 'unavailable') {
        this.libraryUsable = false;
        return this.synthesizeWithCommand(text, signal, voice);
      }
      throw e;
    });
  }

  private async synthesizeWithLibrary(text: string, signal: AbortSignal, voice: string): Promise<SpeechAudio> {
    const { command, rate_wpm: rate, timeout_ms: timeoutMs } = this.opts;
    let s;
    try {
      // an abort (barge-in) answers at once; the library stops within a few ms of audio
      s = await speakWithLibrary(text, voice, rate, timeoutMs, signal);
    } catch (e) {
      if (!(e instanceof EspeakLibraryError) || e.kind === 'unavailable') throw e;
      if (e.kind === 'aborted') throw abortError();
      if (e.kind === 'voice') throw new TtsError(`${command} has no voice "${voice}" (voice.local.voice): list them with ${command} --voices`, 'process', { cause: e });
      throw new TtsError(e.kind === 'timeout' ? `${command} took more than ${timeoutMs} ms for one sentence (voice.local.timeout_ms)` : `${command}: ${e.message}`, e.kind === 'timeout' ? 'timeout' : 'process', { cause: e });
    }
    if (!s.samples.some((v) => v !== 0)) throw new TtsError(`${command} wrote only silence for "${text.slice(0, 40)}" (voice ${voice})`, 'bad-audio');
    const samples = new Float32Array(s.samples.length + Math.round(SENTENCE_TAIL_SECONDS * s.sampleRate));
    samples.set(s.samples);
    return { samples, sampleRate: s.sampleRate, phones: s.phones };
  }

  private synthesizeWithCommand(text: string, signal: AbortSignal, voice: string): Promise<SpeechAudio> {
    const { command, rate_wpm: rate, timeout_ms: timeoutMs } = this.opts;
    return new Promise<SpeechAudio>((resolve, reject) => {
      if (signal.aborted) return reject(abortError());
      // -b 1: stdin is UTF-8; --stdin: the text is read from it whole
      const child = spawn(command, ['-v', voice, '-s', String(rate), '-b', '1', '--stdout', '--stdin'], { stdio: ['pipe', 'pipe', 'pipe'] });
      const parts: Buffer[] = [];
      let bytes = 0;
      let stderr = '';
      let settled = false;
      const finish = (err: Error | null, audio?: SpeechAudio) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (child.exitCode === null) child.kill('SIGKILL');
        if (err) reject(err);
        else resolve(audio!);
      };
      const onAbort = () => finish(abortError());
      signal.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => finish(new TtsError(`${command} took more than ${timeoutMs} ms for one sentence (voice.local.timeout_ms)`, 'timeout')), timeoutMs);
      child.on('error', (e: NodeJS.ErrnoException) =>
        finish(new TtsError(e.code === 'ENOENT' ? `${command} is not installed: apt-get install -y espeak-ng` : `${command}: ${e.message}`, e.code === 'ENOENT' ? 'missing' : 'process', { cause: e })),
      );
      child.stdout.on('data', (b: Buffer) => {
        bytes += b.length;
        if (bytes > MAX_WAV_BYTES) return finish(new TtsError(`${command} wrote more than ${MAX_WAV_BYTES} bytes for one sentence`, 'bad-audio'));
        parts.push(b);
      });
      child.stderr.on('data', (b: Buffer) => {
        if (stderr.length < 2000) stderr += b.toString();
      });
      child.on('close', (code) => {
        if (settled) return;
        if (code !== 0) return finish(new TtsError(`${command} exited with ${code}: ${stderr.trim() || 'no message'} (voice ${voice})`, 'process'));
        try {
          const wav = Buffer.concat(parts);
          const info = parseWavHeader(wav);
          const samples = decodeWavSamples(wav, info);
          // an unknown voice makes espeak-ng write silence and exit 0
          if (!samples.some((v) => v !== 0)) {
            return finish(new TtsError(`${command} wrote only silence: is the voice "${voice}" installed? (list them with: ${command} --voices)`, 'bad-audio'));
          }
          finish(null, { samples, sampleRate: info.sampleRate });
        } catch (e) {
          finish(new TtsError(`${command} wrote no usable WAV: ${(e as Error).message}`, 'bad-audio', { cause: e }));
        }
      });
      child.stdin.on('error', () => undefined); // the process may exit before reading everything
      child.stdin.end(text);
    });
  }
}
