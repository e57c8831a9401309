/** The same kiosk page in headless Chromium on the direct path (no SFU: one wrtc peer per kiosk). */
import { describe } from 'vitest';
import { kioskSuite } from './kiosk-e2e.js';

describe('kiosk page on the direct path', () => {
  kioskSuite('direct', 43400);
});
