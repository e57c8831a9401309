/**
 * Opus for the encoder path's audio: libopus 1.4 compiled to WebAssembly (opusscript, MIT; libopus
 * BSD), called synchronously on the main thread, so a 10 ms chunk's packet leaves in the same tick
 * the pacer releases the chunk.
 *
 * Why not FFmpeg's libopus through beamcoder (the path until late on 2026-12-05): each chunk went to
 * libuv's thread pool and came back on a later turn of the event loop, behind the session's x264
 * frames and whatever else the main thread had queued. Measured with a kiosk on the same 2-core machine
 * (a probe over mediasoup's `Producer.send`, 8 bursts, five runs each, alternated; the streaming
 * bench now prints the same jitter at the publisher, `npx tsx bench/streaming.ts sfu`): audio packets
 * left p95 8.8-11.6 ms late against their pacing, p99 15-30; synchronously p95 1.5-3.8, p99 3-13.
 * The kiosk's jitter buffer follows that jitter: its target read 37-56 ms (mean 45) against 22-42
 * (mean 32). One 10 ms packet costs about 0.07 ms of main-thread time, 0.7 % of a core per session
 * (`npm run bench`, section 1).
 *
 * Settings as the FFmpeg encoder had them: 32 kbit/s, restricted low delay (no speech-only
 * lookahead: 2.5 ms of algorithmic delay), VBR, complexity 10, no in-band FEC.
 */
import { createRequire } from 'node:module';
import { floatToS16 } from '../../pipeline/audio/pcm.js';

const SAMPLE_RATE = 48_000;
const CHUNK = SAMPLE_RATE / 100;
const BITRATE = 32_000;
const MAX_PACKET = 3828;
const OPUS_APPLICATION_RESTRICTED_LOWDELAY = 2051;
const OPUS_SET_BITRATE = 4002;

/**
 * opusscript's Emscripten module, used directly rather than through its `OpusScript` class: that
 * class keeps views of the WebAssembly heap made when an encoder is created, and the heap is
 * replaced when it grows (after ~160 live encoders), which broke every older encoder ("detached
 * ArrayBuffer"). Here the heap is looked up on every call. Pinned to opusscript 0.1.1.
 */
interface Handler {
  _encode(pcm: number, bytes: number, out: number, frameSize: number): number;
  _encoder_ctl(ctl: number, arg: number): number;
}
interface OpusModule {
  OpusScriptHandler: { new (rate: number, channels: number, application: number): Handler; destroy_handler(h: Handler): void };
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  HEAPU8: Uint8Array;
  HEAPU16: Uint16Array;
}
let opus: OpusModule | undefined;
const opusModule = (): OpusModule => (opus ??= (createRequire(import.meta.url)('opusscript/build/opusscript_native_wasm.js') as () => OpusModule)());

export class OpusEncoder {
  private handler: Handler | undefined;
  private readonly pcm = new Int16Array(CHUNK);
  /**
   * The samples' bytes (s16le). The module takes its input one byte per 16-bit heap slot (as
   * opusscript's own class hands it a Buffer); checked against FFmpeg's decoder in
   * test/sfu/opus-encoder.test.ts.
   */
  private readonly bytes = new Uint8Array(this.pcm.buffer);
  private readonly inPtr: number;
  private readonly outPtr: number;

  constructor() {
    const m = opusModule();
    this.handler = new m.OpusScriptHandler(SAMPLE_RATE, 1, OPUS_APPLICATION_RESTRICTED_LOWDELAY);
    this.inPtr = m._malloc(this.bytes.length * 2);
    this.outPtr = m._malloc(MAX_PACKET);
    const r = this.handler._encoder_ctl(OPUS_SET_BITRATE, BITRATE);
    if (r < 0) {
      this.close();
      throw new Error(`OpusEncoder: libopus refused the bit rate ${BITRATE} (error ${r})`);
    }
  }

  /** One Opus packet of 10 ms of mono 48 kHz samples in [-1, 1] (outside is clipped). */
  encode(samples: Float32Array): Buffer {
    if (!this.handler) throw new Error('OpusEncoder.encode: the encoder is closed');
    if (samples.length !== CHUNK) throw new RangeError(`OpusEncoder.encode: expected ${CHUNK} samples (10 ms at 48 kHz), got ${samples.length}`);
    floatToS16(samples, this.pcm);
    const m = opusModule();
    m.HEAPU16.set(this.bytes, this.inPtr >> 1);
    const n = this.handler._encode(this.inPtr, this.bytes.length, this.outPtr, CHUNK);
    if (n < 0) throw new Error(`OpusEncoder.encode: libopus failed (error ${n})`);
    return Buffer.from(m.HEAPU8.subarray(this.outPtr, this.outPtr + n));
  }

  /** Frees the encoder's memory in the WebAssembly heap (which the garbage collector does not see). */
  close(): void {
    if (!this.handler) return;
    const m = opusModule();
    m.OpusScriptHandler.destroy_handler(this.handler);
    m._free(this.inPtr);
    m._free(this.outPtr);
    this.handler = undefined;
  }
}

/** Bytes of the WebAssembly heap the encoders share (it grows and never shrinks); for the tests. */
export function opusHeapBytes(): number {
  return opusModule().HEAPU8.length;
}
