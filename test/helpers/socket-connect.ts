/**
 * One socket.io connection attempt (websocket only, no reconnection): the socket once connected,
 * or the refusal's message. No server imports: the bench's attacker process uses it too.
 */
import { io, type Socket } from 'socket.io-client';

export function tryConnect(
  url: string,
  ns: string,
  auth: Record<string, unknown>,
  opts: { forceNew?: boolean; headers?: Record<string, string> } = {},
): Promise<{ socket?: Socket; error?: string }> {
  return new Promise((resolve) => {
    const s = io(`${url}${ns}`, { auth, transports: ['websocket'], reconnection: false, forceNew: opts.forceNew, extraHeaders: opts.headers });
    s.once('connect', () => resolve({ socket: s }));
    s.once('connect_error', (e) => {
      s.close();
      resolve({ error: e.message });
    });
  });
}
