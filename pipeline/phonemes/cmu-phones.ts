/**
 * CMU's phone set (festival's and flite's US voices: "p", "uw", "ay", "pau") as the espeak-ng
 * phoneme of the same mouth class (phones.ts), so their timings label and shape mouths the same way.
 */
const AS_ESPEAK: Readonly<Record<string, string>> = Object.freeze({
  p: 'p', b: 'b', m: 'm', f: 'f', v: 'v',
  uw: 'u:', uh: 'U', w: 'w', ow: 'oU', ao: 'O:', oy: 'OI',
  iy: 'i:', ih: 'I', y: 'j', ey: 'eI', eh: 'E',
  aa: 'A:', ae: 'a', ah: 'V', ay: 'aI', aw: 'aU',
  ax: '@', er: '3:', sh: 'S', zh: 'Z', ch: 'tS', jh: 'dZ', r: 'r', pau: '_', 'h#': '_',
});

/** The espeak-ng phoneme standing for a CMU phone (other consonants: "t", a consonant whose lips follow). */
export function cmuAsEspeak(phone: string): string {
  return AS_ESPEAK[phone.toLowerCase()] ?? 't';
}
