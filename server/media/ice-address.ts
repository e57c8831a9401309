/**
 * Which IP the WebRTC sockets listen on and which one goes into ICE candidates. LAN only: no STUN,
 * no TURN. A kiosk must be able to reach the announced address.
 */
import { networkInterfaces } from 'node:os';

export interface IceAddress {
  listenIp: string;
  /** set when listenIp is a wildcard */
  announcedIp?: string;
}

/** The first non-internal IPv4 address of this machine, if any. */
export function firstLanAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

export function resolveIceAddress(listenIp: string, announcedIp: string | null): IceAddress {
  if (listenIp !== '0.0.0.0') return { listenIp };
  const announced = announcedIp ?? firstLanAddress();
  if (!announced) throw new Error('media.listen_ip is 0.0.0.0 but this machine has no LAN address to announce: set media.announced_ip');
  return { listenIp, announcedIp: announced };
}
