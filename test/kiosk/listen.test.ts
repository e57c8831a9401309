/**
 * A conversation at a kiosk in listen mode (issue 17), end to end: the kiosk page turns its
 * microphone on by itself (Chromium's fake capture device plays a citizen's question, looped), the
 * server's gate cuts the utterance, the agent (a loopback stand-in) answers, the avatar speaks the
 * answer and the kiosk shows it as a caption. No request of the page leaves the server's origin.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PORTRAIT } from '../../config/schema.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeWavSamples, parseWavHeader } from '../../pipeline/audio/wav.js';
import { speakWav, wavBytes } from '../helpers/speech.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { fromServer, launchChromium, openKiosk } from './browser.js';

let agent: Server;
let ts: TestServer;
let browser: Browser;
/** seconds of the question that are speech (first to last loud sample) */
let spokenSec = 0;
/** seconds of each utterance the agent received */
const asked: number[] = [];

beforeAll(async () => {
  agent = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      const wav = Buffer.concat(parts);
      const info = parseWavHeader(wav);
      asked.push(decodeWavSamples(wav, info).length / info.sampleRate);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: 'The office closes at five o clock.' }));
    });
  });
  await new Promise<void>((r) => agent.listen(0, '127.0.0.1', r));
  ts = await startTestServer({
    mode: 'sfu',
    rtcBase: 47800,
    config: { sessions: [{ id: 'default', portrait: DEFAULT_PORTRAIT, listen: true }], agent: { url: `http://127.0.0.1:${(agent.address() as AddressInfo).port}/` } },
  });
  // the citizen's question, then 10 s of quiet while the avatar answers (the fake device loops the file)
  const q = speakWav('What time does the office close today?', 'en-gb+m3');
  const info = parseWavHeader(q);
  const question = decodeWavSamples(q, info);
  const loud = (v: number) => Math.abs(v) > 0.01;
  let last = question.length - 1;
  while (last > 0 && !loud(question[last]!)) last--;
  spokenSec = (last - question.findIndex(loud)) / info.sampleRate;
  const withPause = new Float32Array(question.length + info.sampleRate * 10);
  withPause.set(question);
  const file = join(ts.dir, 'citizen.wav');
  writeFileSync(file, wavBytes(withPause, info.sampleRate));
  browser = await launchChromium({ fakeMicrophone: file });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await ts?.server.close();
  agent?.close();
});

describe('listen mode at the kiosk', () => {
  it('the kiosk hears the citizen, the agent answers, the avatar speaks the answer with a caption', async () => {
    const page = await openKiosk(browser, ts.server.kioskUrl('default'), 30_000);
    const origin = new URL(ts.server.url).origin;
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!fromServer(r.url(), origin)) foreign.push(r.url());
    });
    // the avatar's speaking state, whenever it turns true (the looped question may barge in on the answer)
    await page.evaluate(() => {
      const w = window as unknown as { spoke: boolean };
      w.spoke = false;
      new MutationObserver(() => (w.spoke ||= document.body.dataset.speaking === 'true')).observe(document.body, { attributes: true, attributeFilter: ['data-speaking'] });
    });
    await page.waitForFunction(() => document.getElementById('caption')!.textContent === 'The office closes at five o clock.', undefined, { timeout: 30_000, polling: 50 });
    expect(asked.length).toBeGreaterThanOrEqual(1);
    console.log(`[listen] the agent got ${asked[0]!.toFixed(2)} s for ${spokenSec.toFixed(2)} s of speech`);
    expect(Math.abs(asked[0]! - spokenSec)).toBeLessThanOrEqual(0.3);
    await page.waitForFunction(() => (window as unknown as { spoke: boolean }).spoke, undefined, { timeout: 5000, polling: 20 });
    expect(foreign).toEqual([]);
    await page.close();
  }, 90_000);
});
