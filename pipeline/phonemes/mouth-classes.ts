/** The mouth classes in the order the recogniser's outputs give them (models/mouth-classes). */
import type { MouthClass } from './phones.js';

export const MOUTH_CLASSES: readonly MouthClass[] = Object.freeze([
  'closed', 'labiodental', 'rounded', 'round-open', 'spread', 'spread-open', 'open', 'mid', 'postalveolar', 'r', 'consonant', 'pause',
]);

/** A phone that stands for each class (what the recogniser hands to PhoneMouth). */
export const CLASS_PHONE: Readonly<Record<MouthClass, string>> = Object.freeze({
  closed: 'p', labiodental: 'f', rounded: 'u:', 'round-open': 'O:', spread: 'i:', 'spread-open': 'e', open: 'a',
  mid: '@', postalveolar: 'S', r: 'r', consonant: 't', pause: '_',
});
