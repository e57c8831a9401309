/** The kiosk's socket.io connection and a request helper with a timeout (protocol: server/protocol.ts). */
import { io, type Socket } from 'socket.io-client';
import type { KioskClientToServer, KioskServerToClient } from '../../server/protocol.js';

export type KioskSocket = Socket<KioskServerToClient, KioskClientToServer>;

/** Reconnection tuned so the page is back within ~1 s of the server. */
export const RECONNECT = { reconnectionDelay: 250, reconnectionDelayMax: 1000, randomizationFactor: 0.2 } as const;

export function connectKiosk(token: string): KioskSocket {
  return io('/kiosk', { auth: { token }, transports: ['websocket'], timeout: 4000, ...RECONNECT });
}

export class RequestError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

type Req = {
  [K in keyof KioskClientToServer]: Parameters<KioskClientToServer[K]> extends [infer A, (res: infer R) => void] ? { req: A; res: R } : never;
};

/** Sends a request and resolves with its answer; a refusal throws RequestError, silence for 8 s a timeout. */
export async function request<K extends keyof Req>(socket: KioskSocket, event: K, req: Req[K]['req']): Promise<Extract<Req[K]['res'], { ok: true }>> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const res = (await (socket.timeout(8000) as any).emitWithAck(event, req)) as { ok: boolean; error?: string; code?: string };
  if (!res.ok) throw new RequestError(res.error ?? 'refused', res.code ?? 'internal');
  return res as Extract<Req[K]['res'], { ok: true }>;
}
