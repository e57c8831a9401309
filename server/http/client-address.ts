/**
 * The client's address behind reverse proxies the config names (server.trust_proxy), pure. A
 * request from a trusted proxy is taken to come from the right-most X-Forwarded-For entry that is
 * not itself a trusted proxy; a request from anywhere else is its own peer (so a client cannot
 * choose its address by sending the header). Per-address limits use this address, so behind the
 * shipped nginx every client has its own budget instead of sharing the proxy's.
 */
import { isIP } from 'node:net';

/** '::ffff:10.0.0.1' and '10.0.0.1' are one address */
export function normaliseAddress(a: string): string {
  const t = a.trim();
  return t.startsWith('::ffff:') && isIP(t.slice(7)) === 4 ? t.slice(7) : t;
}

export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: ReadonlySet<string>): string {
  let current = normaliseAddress(peer ?? '');
  if (!trusted.has(current) || forwardedFor === undefined) return current;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map(normaliseAddress)
    .filter((h) => isIP(h) !== 0);
  while (trusted.has(current) && hops.length > 0) current = hops.pop()!;
  return current;
}
