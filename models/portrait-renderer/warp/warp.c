/*
 * Bilinear warp of 8-bit planes by a sampling grid, as ONNX GridSample (mode linear, padding border,
 * align_corners 0) computes it, with boxes composited over the result in the same pass.
 * Built to WebAssembly by build.sh (clang, wasm-ld); loaded by ../warp.ts.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

/* The source value at normalised (gx, gy), +0.5 (so that truncation rounds). */
static inline float sample(const uint8_t *src, int w, int h, float gx, float gy) {
  float x = ((gx + 1.0f) * (float)w - 1.0f) * 0.5f;
  float y = ((gy + 1.0f) * (float)h - 1.0f) * 0.5f;
  float xm = (float)(w - 1), ym = (float)(h - 1);
  x = x < 0.0f ? 0.0f : (x > xm ? xm : x);
  y = y < 0.0f ? 0.0f : (y > ym ? ym : y);
  int x0 = (int)x, y0 = (int)y;
  int x1 = x0 + 1 < w ? x0 + 1 : x0;
  int y1 = y0 + 1 < h ? y0 + 1 : y0;
  float fx = x - (float)x0, fy = y - (float)y0;
  const uint8_t *r0 = src + y0 * w, *r1 = src + y1 * w;
  float a = (float)r0[x0] + fx * (float)(r0[x1] - r0[x0]);
  float b = (float)r1[x0] + fx * (float)(r1[x1] - r1[x0]);
  return a + fy * (b - a) + 0.5f;
}

static inline uint8_t to8(float v) { return v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)v; }

/* Four pixels at once (g: their 8 grid values): the same arithmetic as sample(), four lanes wide;
   only the 16 byte loads are one by one. Returns the values + 0.5. */
static inline v128_t sample4(const uint8_t *src, int w, int h, const float *g) {
  v128_t a = wasm_v128_load(g), b = wasm_v128_load(g + 4);
  v128_t gx = wasm_i32x4_shuffle(a, b, 0, 2, 4, 6), gy = wasm_i32x4_shuffle(a, b, 1, 3, 5, 7);
  v128_t one = wasm_f32x4_splat(1.0f), half = wasm_f32x4_splat(0.5f);
  v128_t x = wasm_f32x4_mul(wasm_f32x4_sub(wasm_f32x4_mul(wasm_f32x4_add(gx, one), wasm_f32x4_splat((float)w)), one), half);
  v128_t y = wasm_f32x4_mul(wasm_f32x4_sub(wasm_f32x4_mul(wasm_f32x4_add(gy, one), wasm_f32x4_splat((float)h)), one), half);
  v128_t zero = wasm_f32x4_splat(0.0f);
  x = wasm_f32x4_pmin(wasm_f32x4_pmax(x, zero), wasm_f32x4_splat((float)(w - 1)));
  y = wasm_f32x4_pmin(wasm_f32x4_pmax(y, zero), wasm_f32x4_splat((float)(h - 1)));
  v128_t x0 = wasm_i32x4_trunc_sat_f32x4(x), y0 = wasm_i32x4_trunc_sat_f32x4(y);
  v128_t fx = wasm_f32x4_sub(x, wasm_f32x4_convert_i32x4(x0)), fy = wasm_f32x4_sub(y, wasm_f32x4_convert_i32x4(y0));
  v128_t ione = wasm_i32x4_splat(1);
  v128_t dx = wasm_v128_and(wasm_i32x4_lt(x0, wasm_i32x4_splat(w - 1)), ione); /* 1, or 0 on the last column */
  v128_t dy = wasm_v128_and(wasm_i32x4_lt(y0, wasm_i32x4_splat(h - 1)), wasm_i32x4_splat(w));
  v128_t i00 = wasm_i32x4_add(wasm_i32x4_mul(y0, wasm_i32x4_splat(w)), x0);
  int32_t p00[4], p01[4], p10[4], p11[4];
  int32_t o[4], ox[4], oy[4];
  wasm_v128_store(o, i00);
  wasm_v128_store(ox, dx);
  wasm_v128_store(oy, dy);
  for (int k = 0; k < 4; k++) {
    const uint8_t *q = src + o[k];
    p00[k] = q[0];
    p01[k] = q[ox[k]];
    p10[k] = q[oy[k]];
    p11[k] = q[oy[k] + ox[k]];
  }
  v128_t v00 = wasm_f32x4_convert_i32x4(wasm_v128_load(p00)), v01 = wasm_f32x4_convert_i32x4(wasm_v128_load(p01));
  v128_t v10 = wasm_f32x4_convert_i32x4(wasm_v128_load(p10)), v11 = wasm_f32x4_convert_i32x4(wasm_v128_load(p11));
  v128_t top = wasm_f32x4_add(v00, wasm_f32x4_mul(fx, wasm_f32x4_sub(v01, v00)));
  v128_t bot = wasm_f32x4_add(v10, wasm_f32x4_mul(fx, wasm_f32x4_sub(v11, v10)));
  return wasm_f32x4_add(wasm_f32x4_add(top, wasm_f32x4_mul(fy, wasm_f32x4_sub(bot, top))), half);
}

/* row[i .. end) = the samples (v * w0 + add where w0 is given), four at a time, then one by one */
static inline void span(const uint8_t *s, int w, int h, const float *g, uint8_t *row, int i, int end, const float *w0, const float *add) {
  v128_t lo = wasm_f32x4_splat(0.0f), hi = wasm_f32x4_splat(255.0f);
  for (; i + 4 <= end; i += 4) {
    v128_t v = sample4(s, w, h, g + 2 * i);
    if (w0) v = wasm_f32x4_add(wasm_f32x4_mul(v, wasm_v128_load(w0 + i)), wasm_v128_load(add + i));
    v128_t n = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_pmin(wasm_f32x4_pmax(v, lo), hi));
    v128_t n16 = wasm_u16x8_narrow_i32x4(n, n);
    wasm_v128_store32_lane(row + i, wasm_u8x16_narrow_i16x8(n16, n16), 0);
  }
  for (; i < end; i++) {
    float v = sample(s, w, h, g[2 * i], g[2 * i + 1]);
    row[i] = to8(w0 ? v * w0[i] + add[i] : v);
  }
}

/* A box composited over the warp: dst = (sample + 0.5) * w0 + add, w0 [h][w] shared by the planes,
   add [planes][h][w]. Laid out as six int32 (x, y, width, height, w0 address, add address). */
typedef struct {
  int32_t x, y, w, h;
  const float *w0, *add;
} Box;

/* dst = src (planes of w x h) warped by grid ([h][w][2] normalised x, y; the same for each plane),
   with `nboxes` boxes (sorted by x, not overlapping) composited over it. */
EXPORT(warp)
void warp(const uint8_t *src, const float *grid, uint8_t *dst, int w, int h, int planes, const Box *boxes, int nboxes) {
  for (int p = 0; p < planes; p++) {
    const uint8_t *s = src + p * w * h;
    uint8_t *d = dst + p * w * h;
    for (int j = 0; j < h; j++) {
      const float *g = grid + 2 * j * w;
      uint8_t *row = d + j * w;
      int i = 0;
      for (int k = 0; k < nboxes; k++) {
        const Box *b = &boxes[k];
        if (j < b->y || j >= b->y + b->h) continue;
        span(s, w, h, g, row, i, b->x, 0, 0);
        const float *w0 = b->w0 + (j - b->y) * b->w - b->x;
        const float *add = b->add + (p * b->h + j - b->y) * b->w - b->x;
        span(s, w, h, g, row, b->x, b->x + b->w, w0, add);
        i = b->x + b->w;
      }
      span(s, w, h, g, row, i, w, 0, 0);
    }
  }
}
