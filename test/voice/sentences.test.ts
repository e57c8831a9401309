import { describe, expect, it } from 'vitest';
import { splitSentences } from '../../server/voice/sentences.js';

describe('splitSentences', () => {
  it('splits at sentence ends, keeping abbreviations, initials, decimals and quotes inside', () => {
    expect(splitSentences('Hello Mr. Smith, welcome to hall No. 3. The fee is 3.50 euros! Is that OK? Dr. Jones said "wait here." J. Smith left.')).toEqual([
      'Hello Mr. Smith, welcome to hall No. 3.',
      'The fee is 3.50 euros!',
      'Is that OK?',
      'Dr. Jones said "wait here."',
      'J. Smith left.',
    ]);
  });

  it('splits Chinese at 。！？ without spaces, and at line breaks', () => {
    expect(splitSentences('请取号。谢谢！请问您办理什么业务？')).toEqual(['请取号。', '谢谢！', '请问您办理什么业务？']);
    expect(splitSentences('Counter one\nCounter two.')).toEqual(['Counter one', 'Counter two.']);
  });

  it('cuts a long sentence at a comma, else at a space, else hard; none exceeds the limit', () => {
    const long = 'one two three four five six seven eight, nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen';
    const parts = splitSentences(long, 40);
    expect(parts[0]).toBe('one two three four five six seven eight,');
    expect(parts.every((p) => p.length <= 40)).toBe(true);
    expect(parts.join(' ')).toBe(long);
    expect(splitSentences('x'.repeat(90), 40)).toEqual(['x'.repeat(40), 'x'.repeat(40), 'x'.repeat(10)]);
  });

  it('drops pieces with nothing to speak and collapses whitespace', () => {
    expect(splitSentences('  ...  !!  ')).toEqual([]);
    expect(splitSentences('Hello\t  there.   Bye.')).toEqual(['Hello there.', 'Bye.']);
  });

  it('loses no word of the input', () => {
    const text = 'Please go to window 4. Bring your ID card, e.g. a passport! Thank you. Next, please.';
    expect(splitSentences(text).join(' ')).toBe(text);
  });

  it('refuses a bad limit', () => {
    expect(() => splitSentences('a', 0)).toThrow(RangeError);
  });
});
