/** The client's address behind trusted proxies (server/http/client-address.ts). */
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../server/http/client-address.js';

const proxies = new Set(['10.0.10.10', '10.0.10.9']);

describe('client address', () => {
  it('a trusted proxy: the right-most forwarded address that is not a trusted proxy', () => {
    expect(clientAddress('10.0.10.10', '192.168.1.20', proxies)).toBe('192.168.1.20');
    expect(clientAddress('::ffff:10.0.10.10', '1.2.3.4, 192.168.1.20, 10.0.10.9', proxies)).toBe('192.168.1.20');
    expect(clientAddress('10.0.10.10', ['1.2.3.4', '192.168.1.21'], proxies)).toBe('192.168.1.21');
  });

  it('anyone else, or a header without an address: the peer itself (the header cannot choose an address)', () => {
    expect(clientAddress('192.168.1.50', '10.9.9.9', proxies)).toBe('192.168.1.50');
    expect(clientAddress('10.0.10.10', 'not-an-ip', proxies)).toBe('10.0.10.10');
    expect(clientAddress('10.0.10.10', undefined, proxies)).toBe('10.0.10.10');
    expect(clientAddress('::ffff:127.0.0.1', '10.9.9.9', new Set())).toBe('127.0.0.1');
  });
});
