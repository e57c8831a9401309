/** SessionSlots: per-session caps on microphones (pure). */
import { describe, expect, it } from 'vitest';
import { MicLimitError } from '../../server/errors.js';
import { SessionSlots } from '../../server/signalling/session-slots.js';

describe('SessionSlots', () => {
  it('holds at most the limit per session, names the key past it, frees a slot when its connection leaves', () => {
    const s = new SessionSlots(2, 'limits.listeners_per_session');
    s.take('a', 'c1');
    s.take('a', 'c2');
    s.take('a', 'c2'); // the same connection again: its own slot
    s.take('b', 'c3'); // another session counts apart
    expect(() => s.take('a', 'c4')).toThrow(MicLimitError);
    expect(() => s.take('a', 'c4')).toThrow(/limits\.listeners_per_session/);
    s.release('a', 'c1');
    expect(() => s.take('a', 'c4')).not.toThrow();
    const none = new SessionSlots(undefined, 'x');
    for (let i = 0; i < 100; i++) none.take('a', `c${i}`);
  });
});
