/**
 * Named portrait landmarks from the 478-point MediaPipe face mesh, and the move from source-image
 * pixels to pixels of the cropped, scaled portrait. Index sets are MediaPipe's topology; "left" and
 * "right" are the subject's (MediaPipe 33 / 61 are on the subject's right, the image's left).
 */
import type { Box, EyeLandmarks, PortraitLandmarks, Point } from './PortraitTypes.js';
import { MESH_POINTS, meshBox } from './face-mesh.js';

/** outer lip contour, clockwise on screen from the subject's right mouth corner (61) */
export const LIPS_OUTER = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146] as const;
/** inner lip contour (the mouth opening), same direction, from the inner right corner (78) */
export const LIPS_INNER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95] as const;
/** face oval, clockwise on screen from the top of the forehead (10) */
export const FACE_OVAL = [
  10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150,
  136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
] as const;

export const MESH = {
  mouthRight: 61,
  mouthLeft: 291,
  upperLipOuter: 0,
  upperLipInner: 13,
  lowerLipInner: 14,
  lowerLipOuter: 17,
  rightEye: { outer: 33, inner: 133, upper: 159, lower: 145 },
  leftEye: { outer: 263, inner: 362, upper: 386, lower: 374 },
  noseTip: 1,
  chin: 152,
} as const;

/** Maps source-image pixels to portrait pixels: p' = (p - crop.origin) * scale. */
export interface CropTransform {
  crop: Box;
  /** portrait pixels per source pixel, x and y */
  scaleX: number;
  scaleY: number;
}

export function cropTransform(crop: Box, outWidth: number, outHeight: number): CropTransform {
  return { crop, scaleX: outWidth / crop.width, scaleY: outHeight / crop.height };
}

/** A copy of a mesh (x,y,z interleaved, source pixels) in portrait pixels; z scales with the mean scale. */
export function meshToCrop(mesh: Float32Array, t: CropTransform): Float32Array {
  const out = new Float32Array(mesh.length);
  const sz = (t.scaleX + t.scaleY) / 2;
  for (let i = 0; i < mesh.length; i += 3) {
    out[i] = (mesh[i]! - t.crop.x) * t.scaleX;
    out[i + 1] = (mesh[i + 1]! - t.crop.y) * t.scaleY;
    out[i + 2] = mesh[i + 2]! * sz;
  }
  return out;
}

export function boxToCrop(box: Box, t: CropTransform): Box {
  return {
    x: (box.x - t.crop.x) * t.scaleX,
    y: (box.y - t.crop.y) * t.scaleY,
    width: box.width * t.scaleX,
    height: box.height * t.scaleY,
  };
}

function point(mesh: Float32Array, i: number): Point {
  return { x: mesh[i * 3]!, y: mesh[i * 3 + 1]! };
}

function eye(mesh: Float32Array, idx: { outer: number; inner: number; upper: number; lower: number }): EyeLandmarks {
  return { outer: point(mesh, idx.outer), inner: point(mesh, idx.inner), upper: point(mesh, idx.upper), lower: point(mesh, idx.lower) };
}

/**
 * Named landmarks of a 478-point mesh, in whatever pixels the mesh is in (the portrait's, for
 * enrolment). `faceBox` defaults to the tight box around the mesh.
 */
export function landmarksFromMesh(mesh: Float32Array, faceBox: Box = meshBox(mesh)): PortraitLandmarks {
  if (mesh.length !== MESH_POINTS * 3) {
    throw new RangeError(`landmarksFromMesh: expected ${MESH_POINTS * 3} numbers (478 points x,y,z), got ${mesh.length}`);
  }
  const rightEye = eye(mesh, MESH.rightEye);
  const leftEye = eye(mesh, MESH.leftEye);
  // eye line from the subject's right eye (image left) to the left; y is down, so a positive
  // angle is a clockwise roll on screen
  const rc = { x: (rightEye.outer.x + rightEye.inner.x) / 2, y: (rightEye.outer.y + rightEye.inner.y) / 2 };
  const lc = { x: (leftEye.outer.x + leftEye.inner.x) / 2, y: (leftEye.outer.y + leftEye.inner.y) / 2 };
  const roll = (Math.atan2(lc.y - rc.y, lc.x - rc.x) * 180) / Math.PI;
  return {
    mesh,
    faceBox,
    faceOval: FACE_OVAL.map((i) => point(mesh, i)),
    mouth: {
      left: point(mesh, MESH.mouthLeft),
      right: point(mesh, MESH.mouthRight),
      upperOuter: point(mesh, MESH.upperLipOuter),
      upperInner: point(mesh, MESH.upperLipInner),
      lowerInner: point(mesh, MESH.lowerLipInner),
      lowerOuter: point(mesh, MESH.lowerLipOuter),
      outerContour: LIPS_OUTER.map((i) => point(mesh, i)),
      innerContour: LIPS_INNER.map((i) => point(mesh, i)),
    },
    leftEye,
    rightEye,
    noseTip: point(mesh, MESH.noseTip),
    chin: point(mesh, MESH.chin),
    roll,
  };
}
