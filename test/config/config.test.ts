import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, loadConfig, parseConfig } from '../../config/load.js';
import { PRESETS } from '../../config/presets.js';

function tmpFile(name: string, text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'cfg-')), name);
  writeFileSync(p, text);
  return p;
}

describe('configuration', () => {
  it('embedded defaults are the fast preset: a 540x960 portrait-screen picture (Sonic crop 512), 25 fps, on loopback', () => {
    const c = defaultConfig();
    expect(c.preset).toBe('fast');
    expect([c.avatar.width, c.avatar.height]).toEqual([540, 960]);
    expect(c.avatar.min_resolution).toBe(512);
    expect(c.avatar.fps).toBe(25);
    expect(c.avatar.expand_ratio).toBe(0.5);
    expect(c.avatar.lookahead_ms).toBeLessThanOrEqual(80);
    expect(c.server.host).toBe('127.0.0.1');
  });

  it('the quality preset changes resolution, steps and encoding, and a file still wins over it', () => {
    const q = parseConfig({ preset: 'quality' });
    expect(q.avatar.min_resolution).toBe(PRESETS.quality.avatar!.min_resolution);
    expect(q.avatar.inference_steps).toBe(25);
    expect(q.encoder.x264_preset).toBe('medium');
    const f = parseConfig({ preset: 'quality', avatar: { min_resolution: 256 } });
    expect(f.avatar.min_resolution).toBe(256);
    expect(f.avatar.inference_steps).toBe(25);
    // the quality picture is larger; a file chooses another shape, or the square (null, null)
    expect([q.avatar.width, q.avatar.height]).toEqual([720, 1280]);
    expect([parseConfig({ preset: 'quality', avatar: { width: 1080, height: 1920 } }).avatar.height]).toEqual([1920]);
    const square = parseConfig({ avatar: { width: null, height: null } }).avatar;
    expect([square.width, square.height, square.min_resolution]).toEqual([null, null, 512]);
    expect(() => parseConfig({ avatar: { width: null } })).toThrow(/set both avatar.width and avatar.height/);
  });

  it('an out-of-range value fails naming the key, the bound and the value', () => {
    expect(() => parseConfig({ avatar: { dynamic_scale: 5 } })).toThrow(/avatar\.dynamic_scale: .*<=3.*got 5/);
    expect(() => parseConfig({ avatar: { min_resolution: 513 } })).toThrow(/avatar\.min_resolution/);
    expect(() => parseConfig({ avatar: { smoothing: { beta: -1 } } })).toThrow(/avatar\.smoothing\.beta/);
    expect(() => parseConfig({ avatar: { fps: 'fast' } })).toThrow(/avatar\.fps: .*got "fast"/);
  });

  it('the SFU path encodes with x264 (superfast) unless told wrtc; another encoder is refused by name', () => {
    const c = defaultConfig();
    expect(c.media.encoder).toBe('x264');
    expect(c.media.x264_preset).toBe('superfast');
    expect(parseConfig({ media: { encoder: 'wrtc' } }).media.encoder).toBe('wrtc');
    expect(() => parseConfig({ media: { encoder: 'nvenc' } })).toThrow(/media\.encoder/);
    expect(() => parseConfig({ media: { x264_preset: 'placebo' } })).toThrow(/media\.x264_preset/);
  });

  it('an unknown key is refused by name (typos do not pass silently)', () => {
    expect(() => parseConfig({ avatar: { dynamic_scal: 1 } })).toThrow(/unknown key avatar\.dynamic_scal/);
    expect(() => parseConfig({ bogus: true })).toThrow(/unknown key bogus/);
  });

  it('a node may run no session only in a cluster, and a cluster node needs the sfu path', () => {
    expect(defaultConfig().cluster.redis_url).toBeNull();
    expect(() => parseConfig({ sessions: [] })).toThrow(/sessions: at least one session/);
    const edge = parseConfig({ sessions: [], cluster: { redis_url: 'redis://10.0.0.2:6379', node_id: 'hall-2' } });
    expect(edge.sessions).toEqual([]);
    expect(edge.cluster).toMatchObject({ node_id: 'hall-2', prefix: 'kiosk-avatar', session_ttl_sec: 15 });
    expect(() => parseConfig({ media: { mode: 'direct' }, cluster: { redis_url: 'redis://10.0.0.2:6379' } })).toThrow(/media\.mode: a cluster node needs the sfu path/);
    expect(() => parseConfig({ cluster: { node_id: 'a b' } })).toThrow(/cluster\.node_id/);
  });

  it('an unknown preset is refused', () => {
    expect(() => parseConfig({ preset: 'turbo' })).toThrow(ConfigError);
  });

  it('loads a JSON file, applies overrides last, and names the file in errors', () => {
    const ok = tmpFile('ok.json', JSON.stringify({ avatar: { motion_scale: 0.5 }, encoder: { crf: 20 } }));
    const c = loadConfig({ file: ok, overrides: { encoder: { crf: 30 } } });
    expect(c.avatar.motion_scale).toBe(0.5);
    expect(c.encoder.crf).toBe(30);

    const bad = tmpFile('bad.json', JSON.stringify({ avatar: { expand_ratio: 9 } }));
    expect(() => loadConfig({ file: bad })).toThrow(new RegExp(`config file ${bad}: avatar\\.expand_ratio`));
    const notJson = tmpFile('x.json', '{ avatar: ');
    expect(() => loadConfig({ file: notJson })).toThrow(/not valid JSON/);
    expect(() => loadConfig({ file: '/nonexistent/cfg.json' })).toThrow(/cannot read \(ENOENT\)/);
  });
});
