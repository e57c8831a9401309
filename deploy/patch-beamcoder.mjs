// Patches beamcoder 0.7.1's rejectStatus() (src/beamcoder_util.cc): it frees the carrier in
// tidyCarrier() and then returns c->status from the freed memory. When that read happens to be
// 0 (success), a failed FFmpeg call carries on with a null context and the process segfaults
// (seen about once in 80 failed opens of corrupt media). The fix keeps the status before freeing.
// Idempotent; prints "patched", "already patched" or why it could not patch. Exit 0 when the
// source is patched afterwards, 1 otherwise.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../node_modules/beamcoder/src/beamcoder_util.cc', import.meta.url);
const src = readFileSync(file, 'utf8');
const MARK = 'kiosk-avatar-server patch';
if (src.includes(MARK)) {
  console.log('beamcoder: already patched');
  process.exit(0);
}
const eol = src.includes('\r\n') ? '\r\n' : '\n';
const head = `int32_t rejectStatus(napi_env env, carrier* c, char* file, int32_t line) {${eol}  if (c->status != BEAMCODER_SUCCESS) {`;
const tail = `    tidyCarrier(env, c);${eol}  }${eol}  return c->status;${eol}}`;
if (!src.includes(head) || !src.includes(tail)) {
  console.error('beamcoder: rejectStatus() not found as expected; not patched (is this beamcoder 0.7.1?)');
  process.exit(1);
}
const out = src
  .replace(head, `int32_t rejectStatus(napi_env env, carrier* c, char* file, int32_t line) {${eol}  // ${MARK}: tidyCarrier() deletes c; keep the status to return it${eol}  int32_t rejected = c->status;${eol}  if (rejected != BEAMCODER_SUCCESS) {`)
  .replace(tail, `    tidyCarrier(env, c);${eol}  }${eol}  return rejected;${eol}}`);
writeFileSync(file, out);
console.log('beamcoder: patched');
