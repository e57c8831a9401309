/** The kiosk page's layout (kiosk-client/src/layout.ts, pure): cover fills any screen around the face, contain shows all; the mouth stays clear of the controls and the caption. */
import { describe, expect, it } from 'vitest';
import { layout, type LayoutInput, type Rect } from '../../kiosk-client/src/layout.js';

const FACE = { x: 0.3, y: 0.22, width: 0.4, height: 0.5 };
const MOUTH = { x: 0.42, y: 0.6, width: 0.16, height: 0.07 };
const screens = [
  { width: 1080, height: 1920 },
  { width: 768, height: 1024 },
  { width: 1920, height: 1080 },
  { width: 1024, height: 768 },
  { width: 540, height: 960 },
];
const onScreen = (f: Rect, r: Rect) => ({ x: f.x + r.x * f.width, y: f.y + r.y * f.height, width: r.width * f.width, height: r.height * f.height });

describe('kiosk layout', () => {
  for (const screen of screens) {
    const base: LayoutInput = { screen, video: { width: 512, height: 512 }, face: FACE, mouth: MOUTH, fit: 'cover', reservedBottom: 0.12 * screen.height, captionHeight: 0.12 * screen.height };
    it(`${screen.width}x${screen.height}: cover fills the screen with the face on it and the mouth above the controls and clear of the caption; contain shows the whole frame`, () => {
      const c = layout(base);
      const covers = c.frame.x <= 0 && c.frame.y <= 0 && c.frame.x + c.frame.width >= screen.width - 1e-6 && c.frame.y + c.frame.height >= screen.height - 1e-6;
      // it fills the screen unless the face would not fit above the controls (then the page paints the bands)
      expect(c.bands).toBe(!covers);
      if (screen.height > screen.width) expect(covers).toBe(true); // portrait screens: always filled
      const face = onScreen(c.frame, FACE);
      if (!covers) expect(face.height).toBeGreaterThan(0.8 * (screen.height - base.reservedBottom - 16) / 1.2);
      expect(face.x).toBeGreaterThanOrEqual(0);
      expect(face.x + face.width).toBeLessThanOrEqual(screen.width);
      expect(face.y).toBeGreaterThanOrEqual(0);
      expect(face.y + face.height).toBeLessThanOrEqual(screen.height - base.reservedBottom);
      const mouth = onScreen(c.frame, MOUTH);
      expect(mouth.y + mouth.height).toBeLessThanOrEqual(screen.height - base.reservedBottom);
      const capBottom = c.captionTop + base.captionHeight;
      expect(capBottom <= mouth.y || c.captionTop >= mouth.y + mouth.height).toBe(true);
      const k = layout({ ...base, fit: 'contain' });
      expect(k.frame.x).toBeGreaterThanOrEqual(-1e-6);
      expect(k.frame.y).toBeGreaterThanOrEqual(-1e-6);
      expect(k.frame.x + k.frame.width).toBeLessThanOrEqual(screen.width + 1e-6);
      expect(k.frame.y + k.frame.height).toBeLessThanOrEqual(screen.height + 1e-6);
      expect(Math.max(k.frame.width / screen.width, k.frame.height / screen.height)).toBeCloseTo(1, 6);
    });
  }

  it('a face off centre is brought into view; without a face the frame is centred', () => {
    const screen = { width: 540, height: 960 };
    const right = layout({ screen, video: { width: 512, height: 512 }, face: { x: 0.6, y: 0.3, width: 0.3, height: 0.4 }, fit: 'cover', reservedBottom: 100, captionHeight: 100 });
    const f = onScreen(right.frame, { x: 0.6, y: 0.3, width: 0.3, height: 0.4 });
    expect(f.x + f.width).toBeLessThanOrEqual(screen.width);
    expect(right.frame.x).toBeLessThan((screen.width - right.frame.width) / 2); // moved left of centre
    const none = layout({ screen, video: { width: 512, height: 512 }, fit: 'cover', reservedBottom: 100, captionHeight: 100 });
    expect(none.frame.x).toBeCloseTo((screen.width - none.frame.width) / 2, 6);
  });
});
