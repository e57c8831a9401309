/**
 * Recognises audio containers by their first bytes, before anything reaches FFmpeg.
 *
 * Why: FFmpeg probes liberally (random bytes may be taken for MP3 "with a low score"), and
 * beamcoder 0.7.1 was seen to crash the whole process (SIGSEGV in demuxer creation) on such a
 * misdetected input. Only bytes that start like a known audio container are handed to FFmpeg.
 */

export type AudioContainerGuess = 'wav' | 'mp3' | 'aac' | 'ogg' | 'flac' | 'mp4' | 'aiff' | 'matroska' | 'caf' | 'amr';

const AUDIO_MAGIC: [string, number, AudioContainerGuess][] = [
  ['OggS', 0, 'ogg'],
  ['fLaC', 0, 'flac'],
  ['ID3', 0, 'mp3'],
  ['ftyp', 4, 'mp4'],
  ['caff', 0, 'caf'],
  ['#!AMR', 0, 'amr'],
];

/** Well-known files that are not audio, to name them in the error. */
const OTHER_MAGIC: [number[], string][] = [
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
  [[0xff, 0xd8, 0xff], 'a JPEG image'],
  [[0x47, 0x49, 0x46, 0x38], 'a GIF image'],
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document'],
  [[0x50, 0x4b, 0x03, 0x04], 'a ZIP archive'],
  [[0x7b], 'text (JSON?)'],
  [[0x3c], 'text (HTML or XML?)'],
];

/** The audio container `head` (the file's first bytes, 4 KiB is plenty) starts like, or null. */
export function sniffAudioContainer(head: Uint8Array): AudioContainerGuess | null {
  const ascii = (at: number, n: number) => String.fromCharCode(...head.subarray(at, at + n));
  if (head.length >= 12 && (ascii(0, 4) === 'RIFF' || ascii(0, 4) === 'RF64') && ascii(8, 4) === 'WAVE') return 'wav';
  if (head.length >= 12 && ascii(0, 4) === 'FORM' && (ascii(8, 4) === 'AIFF' || ascii(8, 4) === 'AIFC')) return 'aiff';
  if (head.length >= 4 && head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return 'matroska';
  for (const [magic, at, kind] of AUDIO_MAGIC) if (head.length >= at + magic.length && ascii(at, magic.length) === magic) return kind;
  if (isAdts(head, 0)) {
    const next = adtsLength(head, 0);
    if (next >= 7 && (next >= head.length || isAdts(head, next))) return 'aac';
  }
  const mp3 = mpegFrameLength(head, 0);
  // one frame header could be chance; two in a row (or one that fills the whole file) is MP3
  if (mp3 > 0 && (mp3 >= head.length || mpegFrameLength(head, mp3) > 0)) return 'mp3';
  return null;
}

/** A short description of a non-audio file ("a PNG image"), or of its first bytes. */
export function describeNonAudio(head: Uint8Array): string {
  for (const [magic, what] of OTHER_MAGIC) if (magic.every((b, i) => head[i] === b)) return `it looks like ${what}`;
  const hex = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `it starts with bytes ${hex || '(none)'}`;
}

const MPEG1_KBPS = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MPEG2_KBPS = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const MPEG_RATES = [44100, 48000, 32000];

/** Length in bytes of the MPEG-1/2/2.5 Layer III frame whose header is at `at`, or 0 if none is. */
function mpegFrameLength(b: Uint8Array, at: number): number {
  if (at + 4 > b.length || b[at] !== 0xff || (b[at + 1] & 0xe0) !== 0xe0) return 0;
  const version = (b[at + 1] >> 3) & 3; // 0: 2.5, 2: 2, 3: 1
  const layer = (b[at + 1] >> 1) & 3; // 1: layer III
  const bitrate = b[at + 2] >> 4;
  const rate = (b[at + 2] >> 2) & 3;
  if (version === 1 || layer !== 1 || bitrate === 0 || bitrate === 15 || rate === 3) return 0;
  const hz = MPEG_RATES[rate] / (version === 3 ? 1 : version === 2 ? 2 : 4);
  const kbps = (version === 3 ? MPEG1_KBPS : MPEG2_KBPS)[bitrate];
  const padding = (b[at + 2] >> 1) & 1;
  return Math.floor(((version === 3 ? 144 : 72) * kbps * 1000) / hz) + padding;
}

function isAdts(b: Uint8Array, at: number): boolean {
  return at + 7 <= b.length && b[at] === 0xff && (b[at + 1] & 0xf6) === 0xf0 && ((b[at + 2] >> 2) & 0xf) < 13;
}

function adtsLength(b: Uint8Array, at: number): number {
  return ((b[at + 3] & 3) << 11) | (b[at + 4] << 3) | (b[at + 5] >> 5);
}
