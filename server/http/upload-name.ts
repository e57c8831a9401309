/**
 * An uploaded file's name as the server keeps and shows it. The name is the client's to choose, so
 * it is only a label: control characters and the bidirectional-text controls (U+202E would show
 * "evil\u202Egnp.exe" as "evilexe.png") are removed, runs of spaces folded, and the result cut to
 * UPLOAD_NAME_CHARS characters (a 5000-character name would stretch the jobs page). Nothing on disk
 * is named after it.
 */
export const UPLOAD_NAME_CHARS = 120;

// C0 and C1 controls, the bidi marks, embeddings, overrides and isolates, and the BOM
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

export function uploadName(name: string | undefined, fallback = 'upload'): string {
  const clean = (name ?? '').replace(HIDDEN, '').replace(/\s+/g, ' ').trim();
  if (!clean) return fallback;
  const chars = [...clean];
  return chars.length <= UPLOAD_NAME_CHARS ? clean : `${chars.slice(0, UPLOAD_NAME_CHARS - 1).join('')}…`;
}
