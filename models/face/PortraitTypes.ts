/**
 * What enrolment of a portrait photo produces: the cropped, scaled portrait and its face landmarks.
 * All coordinates are in pixels of the CROPPED, SCALED portrait (origin top-left, x right, y down).
 * "left"/"right" are the SUBJECT's left and right (the subject's left eye is on the image's right).
 */

export interface Point {
  x: number;
  y: number;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface EyeLandmarks {
  outer: Point;
  inner: Point;
  upper: Point;
  lower: Point;
}

export interface MouthLandmarks {
  /** corners */
  left: Point;
  right: Point;
  /** outer edge of the upper lip, centre (MediaPipe 0) */
  upperOuter: Point;
  /** inner edge of the upper lip, centre (MediaPipe 13) */
  upperInner: Point;
  /** inner edge of the lower lip, centre (MediaPipe 14) */
  lowerInner: Point;
  /** outer edge of the lower lip, centre (MediaPipe 17) */
  lowerOuter: Point;
  /** outer lip contour, closed polygon, in order */
  outerContour: Point[];
  /** inner lip contour, closed polygon, in order */
  innerContour: Point[];
}

export interface PortraitLandmarks {
  /** the full face mesh: 478 points (MediaPipe indexing), x,y,z interleaved; z in the same pixel scale */
  mesh: Float32Array;
  /** detector's face box */
  faceBox: Box;
  /** face oval, closed polygon, in order */
  faceOval: Point[];
  mouth: MouthLandmarks;
  leftEye: EyeLandmarks;
  rightEye: EyeLandmarks;
  noseTip: Point;
  chin: Point;
  /** in-plane roll of the face, degrees (positive = clockwise on screen) */
  roll: number;
}

export interface EnrolledPortrait {
  /** content hash of the source image bytes + the crop parameters; the cache key */
  id: string;
  /** size of the cropped, scaled portrait (even numbers; the shorter side = min_resolution) */
  width: number;
  height: number;
  /** RGBA pixels of the cropped, scaled portrait, row-major */
  rgba: Uint8Array;
  landmarks: PortraitLandmarks;
  /** where the crop came from */
  source: { width: number; height: number; crop: Box };
  /** detector confidence, 0..1 */
  confidence: number;
}

export interface EnrolOptions {
  /** shorter side of the output portrait in pixels */
  minResolution: number;
  /** fraction of the face box added on each side before cropping */
  expandRatio: number;
  /** directory for cached enrolments; undefined disables the cache */
  cacheDir?: string;
  /**
   * a frame of this size with the face placed by the rule (models/face/framing.ts) instead of the
   * square crop of minResolution framed by expandRatio
   */
  frame?: { width: number; height: number; faceHeight: number; faceCentreY: number };
}
