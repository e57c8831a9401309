/**
 * SessionDirectory (server/cluster/session-directory.ts) against a real Redis (Debian's
 * redis-server): what setOwn resolves to is in Redis when it returns, even while a scan is in
 * flight, and another node's directory reports the new details as 'info' at its next scan.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionInfo } from '../../server/protocol.js';
import { type DirectoryEntry, SessionDirectory } from '../../server/cluster/session-directory.js';
import { startRedis } from '../helpers/processes.js';

let proc: ChildProcess | undefined;
let url: string;
const clients: Redis[] = [];

beforeAll(async () => {
  ({ proc, url } = await startRedis(mkdtempSync(join(tmpdir(), 'directory-'))));
}, 30_000);
afterAll(() => {
  for (const c of clients) c.disconnect();
  proc?.kill();
});

const redis = () => {
  const c = new Redis(url, { maxRetriesPerRequest: 1 });
  clients.push(c);
  return c;
};
const info = (fit: 'cover' | 'contain') => ({ id: 's1', engine: 'portrait', width: 512, height: 512, fps: 25, lookaheadMs: 65, listen: false, fit }) as unknown as SessionInfo;
const entry = (fit: 'cover' | 'contain'): DirectoryEntry => ({ session: 's1', node: 'a', url: 'http://a', epoch: 'e1', info: info(fit) });

describe('the session directory', () => {
  it('setOwn during a scan in flight: the new details are in Redis when it returns, and the other node hears them as info', async () => {
    const a = new SessionDirectory(redis(), { prefix: 't1', node: 'a', ttlSec: 30 });
    const b = new SessionDirectory(redis(), { prefix: 't1', node: 'b', ttlSec: 30 });
    await a.start([entry('cover')]);
    await b.start([]);
    expect(b.get('s1')?.info.fit).toBe('cover');
    const heard: string[] = [];
    b.on('info', (_id, e) => heard.push(e.info.fit ?? ''));
    for (let i = 0; i < 5; i++) {
      const fit = i % 2 === 0 ? 'contain' : 'cover';
      const inFlight = a.refresh(); // a tick that wrote the old entry, or is about to
      await a.setOwn([entry(fit)]);
      await inFlight;
      const stored = JSON.parse((await clients[0]!.get('t1:session:s1'))!) as DirectoryEntry;
      expect(stored.info.fit, `round ${i}`).toBe(fit);
      await b.refresh();
      expect(b.get('s1')?.info.fit, `round ${i}`).toBe(fit);
    }
    expect(heard).toEqual(['contain', 'cover', 'contain', 'cover', 'contain']);
    await a.stop();
    await b.refresh();
    expect(b.get('s1')).toBeUndefined();
    await b.stop();
  }, 20_000);
});
