/**
 * Another language's espeak-ng phonemes as pocketsphinx's English phones (models/mouth-classes/
 * espeak-cmu.ts): the recogniser's French, Italian and Russian readers are aligned by an English
 * acoustic model, and labelled by the mouth class of their own sounds.
 */
import { describe, expect, it } from 'vitest';
import { espeakAsCmu } from '../../models/mouth-classes/espeak-cmu.js';
import { espeakSpeak } from '../../pipeline/phonemes/espeak-phones.js';
import { mouthClass } from '../../pipeline/phonemes/phones.js';

const classes = (m: string, lang: string) => espeakAsCmu(m, lang)?.map(([cmu, label]) => [cmu, mouthClass(label)]);

describe('espeak-ng phonemes of other languages as English phones', () => {
  it('aligns a sound as the nearest English phone, labels it by its own mouth shape', () => {
    expect(classes('y', 'fr')).toEqual([['UW', 'rounded']]); // "lune": rounded, no English phone
    expect(classes('y', 'ru')).toEqual([['IH', 'spread']]); // "ы": unrounded
    expect(classes('W~', 'fr')).toEqual([['ER', 'round-open']]);
    expect(classes("'A~", 'fr')).toEqual([['AA', 'open']]);
    expect(classes('m;', 'ru')).toEqual([['M', 'closed']]);
    expect(classes('p:', 'it')).toEqual([['P', 'closed']]);
    expect(classes('ts', 'it')).toEqual([['T', 'consonant'], ['S', 'consonant']]);
    expect(classes('ja', 'ru')).toEqual([['Y', 'spread'], ['AA', 'open']]);
    expect(espeakAsCmu('Q', 'fr')).toBeUndefined();
  });

  it('has an English phone for every sound espeak-ng speaks in these sentences', () => {
    for (const [voice, lang, text] of [
      ['fr-fr', 'fr', "Vous n'êtes plus en ligne. Composez votre numéro d'agent suivi du dièse, une boîte."],
      ['it', 'it', "Quell'operatore è già loggato. Digitare il proprio numero, seguito dal tasto cancelletto."],
      ['ru', 'ru', 'Этот оператор уже зарегистрирован. Введите номер оператора и нажмите решетку.'],
    ] as const) {
      const phones = espeakSpeak(text, voice, 150).phones.map((p) => p.phone).filter((p) => !p.startsWith('_') && p !== ';');
      expect(phones.length).toBeGreaterThan(30);
      expect(phones.filter((p) => espeakAsCmu(p, lang) === undefined), voice).toEqual([]);
      expect(phones.filter((p) => mouthClass(espeakAsCmu(p, lang)![0]![1]) === 'closed').length, voice).toBeGreaterThanOrEqual(2);
    }
  });
});
