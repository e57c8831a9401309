/**
 * Where the kiosk page draws the picture and the caption (pure; kiosk-client/src/main.ts applies
 * it on every join, resize and 'layout' event).
 *
 * - cover (the default): the picture fills the screen; what does not fit is cut off around the
 *   face, and the picture moves up when the (open) mouth would sit behind the controls; where
 *   filling would make the face too large for the space above the controls (a square frame on a
 *   landscape screen) it stops at the size the face fits, and the page paints the bands beside
 *   it in the frame's own edge colours;
 * - contain: all of the picture, as large as it fits, bands beside it (painted the same way).
 * The caption goes to the band above the face or the one between the chin and the controls,
 * whichever is free and larger; never over the mouth.
 */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LayoutInput {
  screen: { width: number; height: number };
  video: { width: number; height: number };
  /** fractions of the frame (SessionInfo.face / mouth); the frame's centre when unknown */
  face?: Rect;
  mouth?: Rect;
  fit: 'cover' | 'contain';
  /** px at the bottom of the screen the controls take */
  reservedBottom: number;
  /** px the caption takes at most */
  captionHeight: number;
}

export interface Layout {
  /** where the whole frame is drawn, px of the screen (beyond its edges when cut off) */
  frame: Rect;
  /** the frame leaves bands of the screen uncovered (contain; or cover where the face would not fit otherwise): the page fills them with the frame's edge colours */
  bands: boolean;
  /** the caption's top edge, px */
  captionTop: number;
}

const MARGIN = 8;
/** room kept around the face box on screen, in face sizes on each side */
const FACE_PAD = 0.1;
/** how far below the closed mouth an open one reaches, in mouth heights */
const OPEN_MOUTH = 1.8;

export function layout(i: LayoutInput): Layout {
  const { width: sw, height: sh } = i.screen;
  const vw = i.video.width;
  const vh = i.video.height;
  // the face with room around it (the face box of the enrolled photo is a tight one; the head moves)
  const f0 = i.face ?? { x: 0.25, y: 0.25, width: 0.5, height: 0.5 };
  const face = { x: f0.x - FACE_PAD * f0.width, y: f0.y - FACE_PAD * f0.height, width: f0.width * (1 + 2 * FACE_PAD), height: f0.height * (1 + 2 * FACE_PAD) };
  const containScale = Math.min(sw / vw, sh / vh);
  let scale = containScale;
  if (i.fit === 'cover') {
    // fill the screen, but never so large that the face no longer fits above the controls
    const faceFits = Math.min((sh - i.reservedBottom - 2 * MARGIN) / (face.height * vh), (sw - 2 * MARGIN) / (face.width * vw));
    scale = Math.max(containScale, Math.min(Math.max(sw / vw, sh / vh), faceFits));
  }
  const dw = vw * scale;
  const dh = vh * scale;
  // the face in the middle of the screen (of the part above the controls), as far as the frame allows:
  // a frame larger than the screen stays over all of it, a smaller one stays on it
  const place = (centre: number, screen: number, drawn: number, want: number) => {
    const v = want - centre * drawn;
    return drawn >= screen ? Math.min(0, Math.max(screen - drawn, v)) : Math.min(screen - drawn, Math.max(0, v));
  };
  const x = i.fit === 'cover' ? place(face.x + face.width / 2, sw, dw, sw / 2) : (sw - dw) / 2;
  let y = i.fit === 'cover' ? place(face.y + face.height / 2, sh, dh, (sh - i.reservedBottom) / 2) : (sh - dh) / 2;
  // the mouth, open, above the controls: the frame moves up as far as it may
  if (i.mouth) {
    const limit = sh - i.reservedBottom - MARGIN;
    const mouthBottom = y + (i.mouth.y + i.mouth.height * OPEN_MOUTH) * dh;
    if (mouthBottom > limit) y = Math.max(dh >= sh ? sh - dh : 0, y - (mouthBottom - limit));
  }
  const frame = { x, y, width: dw, height: dh };
  const bands = x > 0.5 || y > 0.5 || x + dw < sw - 0.5 || y + dh < sh - 0.5;
  // the caption: above the face, or between the chin (the open mouth) and the controls
  const faceTop = y + face.y * dh;
  const chin = y + (face.y + face.height) * dh;
  const mouthBottom = i.mouth ? y + (i.mouth.y + i.mouth.height * OPEN_MOUTH) * dh : chin;
  const above = faceTop - MARGIN;
  const belowTop = Math.max(chin, mouthBottom) + MARGIN;
  const below = sh - i.reservedBottom - MARGIN - belowTop;
  const fitsBelow = below >= i.captionHeight;
  const captionTop =
    fitsBelow && (below > above || above < i.captionHeight) ? sh - i.reservedBottom - MARGIN - i.captionHeight : Math.min(Math.max((above - i.captionHeight) / 2, MARGIN), sh);
  return { frame, bands, captionTop };
}
