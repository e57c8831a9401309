/** The Sonic weights folder check and the contract's name check: clear errors naming what is missing and where it goes. */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSessionNames, SONIC_CONTRACT } from '../../models/sonic/contract.js';
import { checkWeights } from '../../models/sonic/weights.js';

const sha = (b: string) => createHash('sha256').update(b).digest('hex');

function folder(files: Record<string, string>, manifest?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'sonic-weights-'));
  for (const [k, v] of Object.entries(files)) writeFileSync(join(dir, k), v);
  if (manifest !== undefined) writeFileSync(join(dir, 'manifest.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  return dir;
}
const all = Object.fromEntries(SONIC_CONTRACT.map((s) => [s.file, `stand-in ${s.id}`]));
const manifestOf = (files: Record<string, string>) => ({
  format: 'sonic-onnx/2',
  precision: 'fp16',
  files: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, sha(v)])),
  frame: { width: 512, height: 512 },
});

describe('Sonic weights folder', () => {
  it('names every missing file and says where the export goes', async () => {
    const dir = folder({ 'unet.onnx': 'x' });
    const err = await checkWeights(dir).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    for (const s of SONIC_CONTRACT.filter((c) => c.file !== 'unet.onnx')) expect((err as Error).message).toContain(s.file);
    expect((err as Error).message).not.toMatch(/missing[^.]*unet\.onnx/);
    expect((err as Error).message).toContain('manifest.json');
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toMatch(/models\/sonic\/export/);
  });

  it('accepts a complete folder and verifies checksums on request', async () => {
    const dir = folder(all, manifestOf(all));
    await expect(checkWeights(dir, { verify: true })).resolves.toMatchObject({ precision: 'fp16' });
    const tampered = folder({ ...all, 'unet.onnx': 'half a file' }, manifestOf(all));
    await expect(checkWeights(tampered)).resolves.toBeDefined(); // names only
    await expect(checkWeights(tampered, { verify: true })).rejects.toThrow(/unet\.onnx does not match its manifest/);
  });

  it('external data listed in the manifest (a UNet over 2 GB) must be there and is hashed too', async () => {
    const withData = { ...all, 'unet.onnx.data': 'weights' };
    await expect(checkWeights(folder(withData, manifestOf(withData)), { verify: true })).resolves.toBeDefined();
    const lost = folder(all, manifestOf(withData));
    await expect(checkWeights(lost)).rejects.toThrow(/missing unet\.onnx\.data/);
    const changed = folder({ ...all, 'unet.onnx.data': 'other weights' }, manifestOf(withData));
    await expect(checkWeights(changed, { verify: true })).rejects.toThrow(/unet\.onnx\.data does not match its manifest/);
  });

  it('refuses the first export format, whose UNet call and time ids were wrong, and a manifest without the frame size', async () => {
    await expect(checkWeights(folder(all, { ...manifestOf(all), format: 'sonic-onnx/1' }))).rejects.toThrow(/first export format.*export again/);
    const noFrame: Record<string, unknown> = manifestOf(all);
    delete noFrame.frame;
    await expect(checkWeights(folder(all, noFrame))).rejects.toThrow(/frame must give the export's width and height/);
    await expect(checkWeights(folder(all, { ...manifestOf(all), frame: { width: 500, height: 512 } }))).rejects.toThrow(/multiples of 64/);
  });

  it('refuses a manifest that is not one', async () => {
    await expect(checkWeights(folder(all, '{nope'))).rejects.toThrow(/not valid JSON/);
    await expect(checkWeights(folder(all, { format: 'other' }))).rejects.toThrow(/not a Sonic export manifest/);
    const partial = manifestOf(all);
    delete (partial.files as Record<string, string>)['vae_decoder.onnx'];
    await expect(checkWeights(folder(all, partial))).rejects.toThrow(/no SHA-256 for vae_decoder\.onnx/);
  });

  it('a session that does not follow the contract is named with what it lacks', () => {
    const unet = SONIC_CONTRACT.find((s) => s.id === 'unet')!;
    expect(() => checkSessionNames(unet, ['sample', 'timestep', 'encoder_hidden_states', 'audio_tokens', 'face_mask', 'added_time_ids'], ['noise_pred'])).not.toThrow();
    // the first exporter's UNet (no face mask) is refused by name
    expect(() => checkSessionNames(unet, ['sample', 'timestep', 'encoder_hidden_states', 'audio_tokens', 'added_time_ids'], ['noise_pred'])).toThrow(/missing inputs face_mask/);
    expect(() => checkSessionNames(unet, ['sample', 'timestep'], ['out'])).toThrow(/unet\.onnx does not follow the Sonic ONNX contract.*missing inputs encoder_hidden_states, audio_tokens, face_mask, added_time_ids.*missing outputs noise_pred/);
  });
});
