/** The kiosk page in headless Chromium through the mediasoup SFU (the default path). */
import { describe } from 'vitest';
import { kioskSuite } from './kiosk-e2e.js';

describe('kiosk page through the mediasoup SFU', () => {
  kioskSuite('sfu', 43000);
});
