/**
 * @roamhq/wrtc (node-webrtc, libwebrtc M106), loaded once. It is CommonJS with a nonstandard
 * namespace (RTCVideoSource, RTCAudioSource, sinks), so it is required, not imported.
 *
 * Exit: a process that used RTCVideoSource segfaults if it ends by draining its event loop
 * (shared/FINDINGS.md). Processes that use this module must end with process.exit().
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export type Wrtc = typeof import('@roamhq/wrtc') & {
  nonstandard: typeof import('@roamhq/wrtc/types/nonstandard.js');
};

let wrtc: Wrtc | undefined;

export function loadWrtc(): Wrtc {
  wrtc ??= require('@roamhq/wrtc') as Wrtc;
  return wrtc;
}

let globalsInstalled = false;

/**
 * mediasoup-client's Chrome74 handler uses the browser's WebRTC globals; inside Node, wrtc's
 * classes stand in for them. Installs them once (only where the global is absent).
 */
export function installWrtcGlobals(): void {
  if (globalsInstalled) return;
  const w = loadWrtc();
  const g = globalThis as Record<string, unknown>;
  for (const name of ['RTCPeerConnection', 'RTCSessionDescription', 'RTCIceCandidate', 'MediaStream', 'MediaStreamTrack'] as const) {
    g[name] ??= w[name];
  }
  globalsInstalled = true;
}
