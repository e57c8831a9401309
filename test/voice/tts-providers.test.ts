/** The two TTS providers, for real: espeak-ng as a process, and HTTP against a loopback stand-in service. */
import { afterEach, describe, expect, it } from 'vitest';
import { voiceSchema } from '../../config/schema.js';
import { EspeakTts } from '../../server/voice/espeak-tts.js';
import { TtsError } from '../../server/voice/tts-provider.js';
import { UpstreamTts } from '../../server/voice/upstream-tts.js';
import { speakWithLibrary } from '../../pipeline/phonemes/espeak-library.js';
import { mouthClass, type TimedPhone } from '../../pipeline/phonemes/phones.js';
import { StandInTts } from '../helpers/stand-in-tts.js';

const voice = voiceSchema.parse({});
const never = new AbortController().signal;
const rms = (x: Float32Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);

describe('EspeakTts (local engine)', () => {
  const tts = new EspeakTts(voice.local);

  it('speaks a sentence: 22050 Hz audio, longer for longer text, not silent', async () => {
    const short = await tts.synthesize('Hello.', never);
    const long = await tts.synthesize('Hello, please take a number and wait until it is called.', never);
    expect(short.sampleRate).toBe(22050);
    expect(long.samples.length).toBeGreaterThan(3 * short.samples.length);
    expect(rms(long.samples)).toBeGreaterThan(0.02);
  });

  it('reads the text from stdin: a text that looks like an option is spoken, not obeyed', async () => {
    const a = await tts.synthesize('--version -h', never);
    expect(a.samples.length / a.sampleRate).toBeGreaterThan(0.3);
  });

  it('speaks the rate that is configured', async () => {
    const text = 'The quick brown fox jumps over the lazy dog near the river bank.';
    const slow = await new EspeakTts({ ...voice.local, rate_wpm: 100 }).synthesize(text, never);
    const fast = await new EspeakTts({ ...voice.local, rate_wpm: 300 }).synthesize(text, never);
    expect(slow.samples.length).toBeGreaterThan(1.8 * fast.samples.length);
  });

  it('says how to install it when the command is missing, and names a bad voice', async () => {
    await expect(new EspeakTts({ ...voice.local, command: 'espeak-ng-missing' }).synthesize('Hi.', never)).rejects.toThrow(/apt-get install -y espeak-ng/);
    await expect(new EspeakTts({ ...voice.local, command: 'espeak-ng-missing' }).check()).rejects.toThrow(/apt-get install -y espeak-ng/);
    // espeak-ng itself would fall back to its default voice without a word: the check catches it
    await expect(new EspeakTts({ ...voice.local, voice: 'no-such-voice' }).check()).rejects.toThrow(/no voice "no-such-voice"/);
    await expect(new EspeakTts({ ...voice.local, voice: 'en-gb' }).check()).resolves.toBeUndefined();
    await expect(new EspeakTts({ ...voice.local, voice: 'en-us+f3' }).check()).resolves.toBeUndefined();
  });

  it('a sentence that runs past its timeout fails alone: the one queued behind it is spoken, in a new library thread', async () => {
    const stuck = new EspeakTts({ ...voice.local, timeout_ms: 5 }).synthesize('A long sentence. '.repeat(300), never);
    const next = tts.synthesize('Hello there.', never); // waits behind it; its own timeout starts when it runs
    await expect(stuck).rejects.toMatchObject({ reason: 'timeout' });
    const spoken = await next;
    expect(rms(spoken.samples)).toBeGreaterThan(0.02);
    expect(spoken.phones?.length).toBeGreaterThan(3);
  });

  it('stops the process when the sentence is cancelled', async () => {
    const ctl = new AbortController();
    const p = tts.synthesize('A long sentence. '.repeat(200), ctl.signal);
    ctl.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('UpstreamTts (HTTP)', () => {
  let service: StandInTts | undefined;
  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  const upstream = async (opts: ConstructorParameters<typeof StandInTts>[0] = {}, timeoutMs = 700) => {
    service = new StandInTts(opts);
    await service.start();
    return new UpstreamTts({ ...voice.upstream, url: service.url, timeout_ms: timeoutMs });
  };

  it('reads a streamed WAV answer', async () => {
    const tts = await upstream({ format: 'wav', pieces: 5 });
    const a = await tts.synthesize('Counter three is free.', never);
    expect(a.sampleRate).toBe(22050);
    expect(a.samples.length / a.sampleRate).toBeGreaterThan(0.5);
    expect(service!.completedTexts()).toEqual(['Counter three is free.']);
  });

  it('speaks the openai dialect (/v1/audio/speech: model, input, voice, response_format), as WAV and as 24 kHz pcm', async () => {
    service = new StandInTts({ dialect: 'openai' });
    await service.start();
    const wav = new UpstreamTts({ ...voice.upstream, url: service.url, protocol: 'openai', model: 'kokoro', voice: 'af_sky' });
    const a = await wav.synthesize('Counter three is free.', never);
    expect(service.requests.at(-1)).toEqual({ model: 'kokoro', input: 'Counter three is free.', voice: 'af_sky', response_format: 'wav' });
    expect(a.sampleRate).toBe(22050);
    const pcm = new UpstreamTts({ ...voice.upstream, url: service.url, protocol: 'openai', response_format: 'pcm' });
    const b = await pcm.synthesize('Counter three is free.', never);
    expect(service.requests.at(-1)).toMatchObject({ model: 'tts-1', response_format: 'pcm' });
    expect(b.sampleRate).toBe(24_000);
    // the same speech: as long as the WAV answer's, within 1 %
    expect(Math.abs(b.samples.length / b.sampleRate - a.samples.length / a.sampleRate)).toBeLessThan(0.01 * (a.samples.length / a.sampleRate));
    expect(rms(b.samples)).toBeGreaterThan(0.02);
  });

  it('reads a raw audio/L16 answer with its rate', async () => {
    const tts = await upstream({ format: 'l16' });
    const a = await tts.synthesize('Counter three is free.', never);
    expect(a.sampleRate).toBe(22050);
    expect(rms(a.samples)).toBeGreaterThan(0.02);
  });

  it('reads a JSON answer with the phones the service spoke (espeak-ng mnemonics, IPA, ARPAbet); refuses phones that do not fit the audio', async () => {
    const tts = await upstream({ format: 'json' });
    const a = await tts.synthesize('Bob put the map in the blue box.', never);
    expect(a.sampleRate).toBe(22050);
    expect(rms(a.samples)).toBeGreaterThan(0.02);
    const sent = (await speakWithLibrary('Bob put the map in the blue box.', 'en-gb', 175, 10_000)).phones; // the espeak thread, as the stand-in
    // (the library's timings of two syntheses of one text differ by a fraction of a ms)
    expect(a.phones!.map((p) => p.phone)).toEqual(sent.map((p) => p.phone));
    for (const [i, p] of a.phones!.entries()) expect(Math.abs(p.start - sent[i]!.start)).toBeLessThan(0.005);
    expect(a.phones!.every((p) => p.end <= a.samples.length / a.sampleRate)).toBe(true); // cut at the audio's end
    expect(a.phones!.filter((p) => mouthClass(p.phone) === 'closed').length).toBeGreaterThanOrEqual(5);
    await service!.stop();

    // IPA (what Piper and other espeak-ng-phonemised services report) and ARPAbet: the same mouth classes
    const IPA: Record<string, string> = { b: 'b', 'A:': 'ɑː', p: 'p', U: 'ʊ', t: 't', D: 'ð', '@': 'ə', m: 'm', a: 'æ', I: 'ɪ', n: 'n', l: 'l', 'u:': 'uː', '0': 'ɒ', k: 'k', s: 's' };
    const ARPA: Record<string, string> = { b: 'B', 'A:': 'AA1', p: 'P', U: 'UH1', t: 'T', D: 'DH', '@': 'AH0', m: 'M', a: 'AE1', I: 'IH0', n: 'N', l: 'L', 'u:': 'UW1', '0': 'AO1', k: 'K', s: 'S' };
    for (const [alphabet, table] of [['ipa', IPA], ['arpabet', ARPA]] as const) {
      const tts2 = await upstream({ format: 'json', phones: (ph) => ({ phones: ph.map((p) => ({ ...p, phone: table[p.phone] ?? '_' })), alphabet }) });
      const b = await tts2.synthesize('Bob put the map in the blue box.', never);
      const known = sent.map((p, i) => [p, b.phones![i]!] as const).filter(([p]) => table[p.phone] !== undefined);
      expect(known.length).toBeGreaterThan(15);
      for (const [p, q] of known) expect([alphabet, p.phone, mouthClass(q.phone)]).toEqual([alphabet, p.phone, mouthClass(p.phone)]);
      await service!.stop();
    }

    // wrong timings are refused whole, with the reason (the sentence then goes to the local engine)
    for (const [bad, reason] of [
      [(ph: TimedPhone[]) => ({ phones: [...ph].reverse() }), /in order/],
      [(ph: TimedPhone[]) => ({ phones: ph.map((p) => ({ ...p, start: p.start + 5, end: p.end + 5 })) }), /past the audio/],
      [() => ({ phones: [{ phone: 'p', start: 'soon' }] }), /phones\[0\] is not/],
      [(ph: TimedPhone[]) => ({ phones: ph, alphabet: 'klingon' }), /alphabet/],
    ] as const) {
      const tts3 = await upstream({ format: 'json', phones: bad });
      await expect(tts3.synthesize('Bob put the map in the blue box.', never)).rejects.toMatchObject({ name: 'TtsError', reason: 'bad-audio', message: reason });
      await service!.stop();
    }
  });

  it('fails with a timeout when the first byte does not come in time', async () => {
    const tts = await upstream({ firstByteMs: 1500 }, 300);
    const t0 = performance.now();
    await expect(tts.synthesize('Hello.', never)).rejects.toMatchObject({ name: 'TtsError', reason: 'timeout' });
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('fails (never a shorter sentence) when the connection is cut mid-audio', async () => {
    const tts = await upstream({ pieces: 6 });
    service!.stopMidText(0);
    const err = await tts.synthesize('This answer is cut off half way.', never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TtsError);
    expect((err as TtsError).reason).toBe('unreachable');
  });

  it('shows its URL without the query (an API key there) in errors and /healthz', async () => {
    const tts = new UpstreamTts({ ...voice.upstream, url: 'http://127.0.0.1:9/tts?api_key=s3cret' });
    expect(tts.url).toBe('http://127.0.0.1:9/tts');
    const err = await tts.synthesize('Hi.', never).then(() => undefined, (e: Error) => e);
    expect(err).toBeInstanceOf(TtsError);
    expect(err!.message).not.toMatch(/s3cret/);
  });

  it('fails on an HTTP error status, on a refused connection and on a wrong content type', async () => {
    const tts = await upstream();
    service!.status = 503;
    await expect(tts.synthesize('Hi.', never)).rejects.toMatchObject({ reason: 'http-status', message: /503/ });
    await service!.stop();
    await expect(tts.synthesize('Hi.', never)).rejects.toMatchObject({ reason: 'unreachable' });
    const wrong = new UpstreamTts({ ...voice.upstream, url: 'data:text/plain,hello' });
    await expect(wrong.synthesize('Hi.', never)).rejects.toBeInstanceOf(TtsError);
  });
});
