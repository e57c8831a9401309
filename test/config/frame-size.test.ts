/** The one frame-size rule (config, render --size, a job's size). */
import { describe, expect, it } from 'vitest';
import { parseFrameSize } from '../../config/frame-size.js';
import { parseConfig } from '../../config/load.js';

describe('frame sizes', () => {
  it('takes even sizes from 128 up to 1080x1920 either way round; the config refuses what the parser refuses', () => {
    expect(parseFrameSize('720x1280')).toEqual({ width: 720, height: 1280 });
    expect(parseFrameSize(' 1920x1080 ')).toEqual({ width: 1920, height: 1080 });
    for (const bad of ['720 by 1280', '721x1280', '2160x3840', '1280x1280', '64x64', 'x', '']) expect(parseFrameSize(bad), bad).toBeUndefined();
    expect(() => parseConfig({ avatar: { width: 1280, height: 1280 } })).toThrow(/at most 1080x1920/);
    expect(parseConfig({ avatar: { width: 1080, height: 1920 } }).avatar.height).toBe(1920);
  });
});
