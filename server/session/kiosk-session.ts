/**
 * What a kiosk's socket talks to (server/signalling/kiosk-namespace.ts): a session running on this
 * node (AvatarSession), or, on a cluster node, one running on another node and relayed here
 * (server/cluster/remote-session.ts).
 */
import type { ConsumerInfo, KioskReport, MediaMode, SessionInfo, TransportInfo } from '../protocol.js';

export interface KioskSession {
  readonly id: string;
  readonly mode: MediaMode;
  readonly info: SessionInfo;
  addKiosk(kioskId: string): Promise<{ sfu?: { routerRtpCapabilities: unknown; transport: TransportInfo } }>;
  sfuConnect(kioskId: string, dtlsParameters: unknown): Promise<void>;
  sfuConsume(kioskId: string, rtpCapabilities: unknown): Promise<ConsumerInfo[]>;
  sfuResume(kioskId: string, kind?: 'audio' | 'video'): Promise<void>;
  directOffer(kioskId: string): Promise<string>;
  directAnswer(kioskId: string, sdp: string): Promise<void>;
  directStartAudio(kioskId: string): Promise<void>;
  interrupt(): { droppedMs: number; droppedSentences: number } | Promise<{ droppedMs: number; droppedSentences: number }>;
  report(kioskId: string, report: KioskReport): void;
  /** releases everything the kiosk held; safe to call twice */
  removeKiosk(kioskId: string): void;
}
