/**
 * AudioWorklet processor: hands the microphone's first channel to the page in blocks of 128
 * samples (the render quantum). Built to mic-worklet.js and loaded with audioWorklet.addModule.
 */
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(name: string, ctor: unknown): void;

class PcmCapture extends AudioWorkletProcessor {
  process(inputs: Float32Array[][]): boolean {
    const ch = inputs[0]?.[0];
    if (ch && ch.length > 0) this.port.postMessage(ch.slice(0));
    return true;
  }
}

registerProcessor('pcm-capture', PcmCapture);
