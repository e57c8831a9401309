/** IPA phones (Piper and other espeak-ng-phonemised upstream TTS) onto the mouth classes. */
import { describe, expect, it } from 'vitest';
import { ipaAsEspeak } from '../../pipeline/phonemes/ipa-phones.js';
import { mouthClass, mouthParts } from '../../pipeline/phonemes/phones.js';

const cls = (ipa: string) => mouthClass(ipaAsEspeak(ipa));

describe('ipaAsEspeak', () => {
  it('classes English IPA as espeak-ng classes its own phonemes', () => {
    const table: [string, string][] = [
      ['p', 'closed'], ['b', 'closed'], ['m', 'closed'], ['f', 'labiodental'], ['v', 'labiodental'],
      ['uː', 'rounded'], ['ʊ', 'rounded'], ['w', 'rounded'], ['ɔː', 'round-open'], ['ɒ', 'round-open'], ['oʊ', 'round-open'],
      ['iː', 'spread'], ['ɪ', 'spread'], ['j', 'spread'], ['eɪ', 'spread-open'], ['ɛ', 'spread-open'],
      ['ɑː', 'open'], ['æ', 'open'], ['ʌ', 'open'], ['aɪ', 'open'], ['ə', 'mid'], ['ɜː', 'mid'],
      ['ʃ', 'postalveolar'], ['tʃ', 'postalveolar'], ['t͡ʃ', 'postalveolar'], ['dʒ', 'postalveolar'], ['ɹ', 'r'],
      ['t', 'consonant'], ['ð', 'consonant'], ['ŋ', 'consonant'], ['k', 'consonant'], ['', 'pause'], ['_', 'pause'],
    ];
    expect(table.map(([p]) => [p, cls(p)])).toEqual(table);
  });

  it('keeps a diphthong\'s vowels, so the mouth moves through them', () => {
    const through = (ipa: string) => mouthParts(ipaAsEspeak(ipa)).map((p) => p.cls);
    expect(['aʊ', 'aɪ', 'oʊ', 'eɪ', 'ɔɪ', 'ɪə', 'aɪə'].map(through)).toEqual([
      ['open', 'rounded'], ['open', 'spread'], ['round-open', 'rounded'], ['spread-open', 'spread'], ['round-open', 'spread'], ['spread'], ['open', 'spread'],
    ]);
    expect(through('uː')).toEqual(['rounded']);
  });

  it('ignores stress, length, tone marks and diacritics (Mandarin from a pinyin phonemiser)', () => {
    expect(['ˈa', 'ˌuː', 'a˥˩', 'u˧˥', 'ma1', 'pʰ', 'ã', 'y˨˩˦', 'tɕʰ', 'ʂ'].map(cls)).toEqual(['open', 'rounded', 'open', 'rounded', 'closed', 'closed', 'open', 'rounded', 'postalveolar', 'postalveolar']);
  });
});
