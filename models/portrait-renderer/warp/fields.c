/*
 * Per frame, what the portrait renderer's warp needs: the sampling grids (head motion + the blink
 * and mouth fields on their bands) and the mouth and eye boxes' composite weights, from the frame's
 * 25 scalars and the portrait's static tables. The formulas are those of ../portrait-graph.ts, the
 * ONNX graph that computed them before and that test/renderer/fields.test.ts checks this against.
 * The layout of `Fields` is written by ../fields.ts: keep the two in the same order.
 */
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(#name)))

static inline float clampf(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }
static inline float relu(float x) { return x > 0.0f ? x : 0.0f; }
static inline float absf(float x) { return __builtin_fabsf(x); }
/* clip(x * k + b, 0, 1): a soft step (graph-ops.ts `ramp`) */
static inline float ramp(float x, float k, float b) { return clampf(x * k + b, 0.0f, 1.0f); }
/* 1 on a line (d = 0), 0 from 0.8 px away: the dark gap between two drawn teeth */
static inline float bump(float d) { return clampf(1.0f - absf(d) * 1.25f, 0.0f, 1.0f); }

/* one resolution of the head grid: out [h][w][2]; t [5][h*w]: the yaw x, pitch y, roll x, roll y
   and breath y rows of the head basis (basis.ts), the identity computed here */
typedef struct {
  int32_t w, h;
  float *grid;
  const float *t;
} Head;

/* a band of the grid holding the blink fields: [2 eyes][h][w][2], per unit of blink */
typedef struct {
  int32_t x, y, w, h;
  const float *basis;
} EyesBand;

/* a box's composite: w0 [h][w], add [h][w] (Y); w0h [h/2][w/2], addh [2][h/2][w/2] (U, V) */
typedef struct {
  float *w0, *add, *w0h, *addh;
} Composite;

typedef struct {
  Head head[2];
  EyesBand eyesBand[2];
  /* the mouth band (full resolution; the half grid takes its even rows and columns) */
  int32_t mx, my, mw, mh;
  const float *mu, *mv, *elow, *eup, *eh;
  float *scratch; /* [mh][2][mw]: the band's grid offsets (x row, y row), for the half grid */
  float *wscratch; /* [5][box width]: one row of a box's five colour weights */
  float lowerCurve, lowerInnerMinusCurve, invSeam, lipT, invRamp, invLipH, cornerU;
  float m00, m01, m10, m11; /* local (du, dv) -> grid offset */
  /* the mouth box, inside the band at (bx, by) of it */
  int32_t bx, by, bw, bh;
  Composite mouth;
  float teethA, invFeather, invSeamW, seamOpacity;
  float mouthColours[5][3]; /* teeth, tongue, throat, cavity, seam: Y, U, V + 0.5 */
  /* the eyes box (its own coordinates per eye) */
  int32_t ew, eh_;
  Composite eyes;
  const float *eu[2], *ev[2];
  float invHalfWidth2[2], upper[2], topOffset[2], invTop[2], lashW[2], invLight[2];
  float eyeColours[5][3]; /* left lid, left lid dark, right lid, right lid dark, lash */
} Fields;

/* per-frame inputs: coeffs [5] (1, yaw, pitch, roll, breath), blink [2], mouth [10], eyes [2][4] */
enum { C0 = 0, BLINK = 5, MOUTH = 7, EYES = 17 };
enum { DU, DV, INV_A2, DROP, LIFT, STRETCH, POUT, OPACITY, TEETH, SEAM };

static void head(const Head *hd, const float *c) {
  const int w = hd->w, h = hd->h, n = w * h;
  const float *restrict yaw = hd->t, *restrict pitch = hd->t + n, *restrict rollx = hd->t + 2 * n, *restrict rolly = hd->t + 3 * n, *restrict breath = hd->t + 4 * n;
  float *restrict g = hd->grid;
  const float iw = 1.0f / (float)w, ih = 1.0f / (float)h;
  for (int j = 0; j < h; j++) {
    const float y0 = (float)(2 * j + 1) * ih - 1.0f;
    for (int i = 0; i < w; i++) {
      const int k = j * w + i;
      g[2 * k] = (float)(2 * i + 1) * iw - 1.0f + c[1] * yaw[k] + c[3] * rollx[k];
      g[2 * k + 1] = y0 + c[2] * pitch[k] + c[3] * rolly[k] + c[4] * breath[k];
    }
  }
}

static void eyesBand(const EyesBand *b, const Head *hd, const float *blink) {
  const int n = b->w * b->h;
  const float *l = b->basis, *r = b->basis + 2 * n;
  for (int j = 0; j < b->h; j++) {
    float *g = hd->grid + 2 * ((b->y + j) * hd->w + b->x);
    for (int i = 0; i < 2 * b->w; i++) {
      const int k = 2 * j * b->w + i;
      g[i] += blink[0] * l[k] + blink[1] * r[k];
    }
  }
}

/* row j (even) of a box at half resolution: w0h and addh from the row's five weights at even columns */
static void half(const Composite *c, const float *w, int bw, int bh, int j, const float colours[5][3]) {
  const int w2 = bw / 2, nh = w2 * (bh / 2);
  const float *w0 = c->w0 + j * bw;
  float *w0h = c->w0h + (j / 2) * w2, *u = c->addh + (j / 2) * w2, *v = u + nh;
  for (int i = 0; i < w2; i++) {
    float su = 0.0f, sv = 0.0f;
    for (int k = 0; k < 5; k++) {
      su += w[k * bw + 2 * i] * colours[k][1];
      sv += w[k * bw + 2 * i] * colours[k][2];
    }
    w0h[i] = w0[2 * i];
    u[i] = su;
    v[i] = sv;
  }
}

/* the mouth band's field (added to both grids) and the mouth box's composite */
static void mouth(const Fields *f, const float *m) {
  const float du = m[DU], dv = m[DV], invA2 = m[INV_A2], drop = m[DROP], lift = m[LIFT], stretch = m[STRETCH], pout = m[POUT];
  const int mw = f->mw;
  const float *restrict mu = f->mu, *restrict mv = f->mv, *restrict elow = f->elow, *restrict eup = f->eup, *restrict eh = f->eh;
  float *restrict sc = f->scratch;
  const float lowerCurve = f->lowerCurve, lic = f->lowerInnerMinusCurve, invSeam = f->invSeam, lipT = f->lipT, invRamp = f->invRamp, invLipH = f->invLipH, cornerU = f->cornerU;
  const float m00 = f->m00, m01 = f->m01, m10 = f->m10, m11 = f->m11;
  /* a lower lip raised (drop < 0: f / v, or a press, on a photo showing its teeth) takes the split
     line up with it, so its inner edge shows where it lands */
  const float rise = drop < 0.0f ? drop : 0.0f;
  /* under the lip: towards the chin, a jaw that opens pulls more (to 1), a lip that rises less (to 0);
     which of the two this frame is (1: opens), as the graph computes it */
  const float opensW = ramp(drop, 1e6f, 0.0f);
  /* the band's grid offsets into scratch ([x row][y row] per band row), four pixels at a time where clang vectorises */
  for (int j = 0; j < f->mh; j++) {
    float *restrict ox = sc + 2 * j * mw, *restrict oy = ox + mw;
#pragma clang loop vectorize(enable)
    for (int i = 0; i < mw; i++) {
      const int k = j * mw + i;
      const float U = mu[k] - du, V = mv[k] - dv;
      const float q = relu(1.0f - U * U * invA2);
      const float split = q * (q * lowerCurve + lic);
      const float rel = V - split;
      const float below = ramp(rel - q * rise, invSeam, 0.5f);
      const float x = relu(rel - q * drop - lipT) * invRamp;
      float opens = q + x;
      opens = opens < 1.0f ? opens : 1.0f;
      const float rises = relu(q - x);
      const float lowW = rises + opensW * (opens - rises);
      const float dvMap = below * elow[k] * lowW * drop - (1.0f - below) * eup[k] * q * lift + clampf(rel * invLipH, -1.0f, 1.0f) * eh[k] * pout;
      const float duMap = clampf(U, -cornerU, cornerU) * eh[k] * stretch;
      ox[i] = m00 * duMap + m01 * dvMap;
      oy[i] = m10 * duMap + m11 * dvMap;
    }
    float *restrict g = f->head[0].grid + 2 * ((f->my + j) * f->head[0].w + f->mx);
    for (int i = 0; i < mw; i++) {
      g[2 * i] += ox[i];
      g[2 * i + 1] += oy[i];
    }
  }
  const Head *hh = &f->head[1];
  for (int j = 0; j < f->mh / 2; j++) {
    float *g = hh->grid + 2 * ((f->my / 2 + j) * hh->w + f->mx / 2);
    const float *sx = f->scratch + 2 * (2 * j) * mw, *sy = sx + mw;
    for (int i = 0; i < mw / 2; i++) {
      g[2 * i] += sx[2 * i];
      g[2 * i + 1] += sy[2 * i];
    }
  }

  const float opacity = m[OPACITY], teeth = m[TEETH], seam = m[SEAM];
  const float teethA = f->teethA, invFeather = f->invFeather, invSeamW = f->invSeamW, seamOpacity = f->seamOpacity;
  /* the drawn teeth (TEETH_GAPS in ../shape.ts): x = |u| / a of this frame's mouth; the gaps
     between the upper teeth at these multiples of a */
  const float ia = __builtin_sqrtf(invA2), aF = 1.0f / ia;
  const float g1 = 0.3f * aF, g2 = 0.55f * aF, g3 = 0.76f * aF, g4 = 0.92f * aF;
  const float invTopShadow = 1.0f / (0.35f * teethA), invTeethA = 1.0f / teethA;
  /* the lower teeth (LOWER_TEETH in ../shape.ts): their edges show above the lower lip once the
     mouth opens wide (the opening in the middle from 1.5 to 3.5 upper-teeth heights), up to half an
     upper tooth's height; in the upper teeth's shadow, with narrower gaps between them */
  const float lowVis = clampf(((drop - rise + lift) - 1.5f * teethA) * (1.0f / (2.0f * teethA)), 0.0f, 1.0f);
  const float lowH = 0.5f * teethA * lowVis, lowOn = clampf(lowVis * 4.0f, 0.0f, 1.0f);
  /* their edges: a flat arch lowH above the lower lip's middle, rising half as much again at the
     corners; the lip, which curves up faster, covers them from about 0.4 a out */
  const float lowEdge = f->lowerCurve + f->lowerInnerMinusCurve + drop - lowH, lowRise = 0.5f * lowH;
  const float l1 = 0.17f * aF, l2 = 0.34f * aF, l3 = 0.5f * aF;
  const int bw = f->bw;
  for (int j = 0; j < f->bh; j++) {
    const float *restrict bu = mu + (f->by + j) * mw + f->bx, *restrict bv = mv + (f->by + j) * mw + f->bx;
    float *restrict w0 = f->mouth.w0 + j * bw, *restrict add = f->mouth.add + j * bw;
    float *restrict wt = f->wscratch, *restrict wg = wt + bw, *restrict wh = wg + bw, *restrict wc = wh + bw, *restrict ws = wc + bw;
#pragma clang loop vectorize(enable)
    for (int i = 0; i < bw; i++) {
      const float U = bu[i] - du, V = bv[i] - dv;
      const float P = relu(1.0f - U * U * invA2);
      const float sb = P * (P * lowerCurve + lic);
      const float meet = sb + P * rise; /* the split line, displaced */
      const float top = meet - P * lift, bot = sb + P * drop;
      const float hh2 = (bot - top) * 0.5f;
      const float dist = absf(V - (top + bot) * 0.5f);
      const float mask = clampf((hh2 - dist) * invFeather, 0.0f, 1.0f) * opacity;
      const float teethBand = ramp(top + teethA * (0.6f + 0.4f * P) - V, 1.0f / 1.5f, 0.5f) * clampf((P - 0.25f) * 3.0f, 0.0f, 1.0f);
      const float span = bot - top;
      const float tRel = (V - top) / (span > 1.0f ? span : 1.0f);
      const float tongue = clampf((tRel - 0.62f) * 3.0f, 0.0f, 0.75f);
      const float depth = clampf(1.0f - dist / (hh2 > 0.5f ? hh2 : 0.5f), 0.0f, 1.0f) * P;
      const float wTeeth = mask * (teethBand * teeth);
      /* the upper teeth in shadow towards the corners and under the lip, the gaps between them
         darker towards the biting edge (shorter teeth towards the corners: teethBand); what is
         not lit goes to the cavity's colour */
      const float au = absf(U), below = V - top;
      const float kc = 1.0f - 0.55f * clampf((au * ia - 0.35f) * (1.0f / 0.6f), 0.0f, 1.0f);
      const float kt = 1.0f - 0.3f * clampf(1.0f - below * invTopShadow, 0.0f, 1.0f);
      const float gaps = bump(au) + bump(au - g1) + bump(au - g2) + bump(au - g3) + bump(au - g4);
      const float e = clampf(below * invTeethA, 0.0f, 1.0f);
      const float lit = kc * kt * (1.0f - (0.05f + 0.45f * e * e) * gaps);
      const float lowBand = ramp(V - (lowEdge - lowRise * (1.0f - P)), 1.0f / 1.5f, 0.5f) * clampf((P - 0.3f) * 4.0f, 0.0f, 1.0f) * lowOn;
      const float litLow = 0.8f * kc * (1.0f - 0.25f * (bump(au) + bump(au - l1) + bump(au - l2) + bump(au - l3)));
      const float r0 = mask - wTeeth;
      const float wLow = r0 * lowBand;
      const float r1 = r0 - wLow;
      const float wTongue = r1 * tongue;
      const float r2 = r1 - wTongue;
      const float wThroat = r2 * depth;
      const float wCavity = r2 - wThroat + wTeeth * (1.0f - lit) + wLow * (1.0f - litLow);
      const float wLit = wTeeth * lit + wLow * litLow;
      const float onSeam = clampf(1.5f - absf(V - meet) * invSeamW, 0.0f, 1.0f) * clampf(P * 4.0f, 0.0f, 1.0f);
      const float wSeam = onSeam * (1.0f - mask) * (seam * seamOpacity);
      w0[i] = (1.0f - mask) - wSeam;
      add[i] = wLit * f->mouthColours[0][0] + wTongue * f->mouthColours[1][0] + wThroat * f->mouthColours[2][0] + wCavity * f->mouthColours[3][0] + wSeam * f->mouthColours[4][0];
      wt[i] = wLit;
      wg[i] = wTongue;
      wh[i] = wThroat;
      wc[i] = wCavity;
      ws[i] = wSeam;
    }
    if ((j & 1) == 0) half(&f->mouth, f->wscratch, bw, f->bh, j, f->mouthColours);
  }
}

/* one eye's constants and per-frame inputs, held in locals while the eyes box is drawn */
typedef struct {
  float du, dv, edge, op, invHalfWidth2, upper, topOffset, invTop, lashW, invLight;
} Eye;

/* one eye's lid (lit and dark parts) and lashes at one pixel of the eyes box */
static inline void lid(Eye k, float u, float v, float *lit, float *dark, float *lash) {
  const float U = u - k.du, V = v - k.dv;
  const float qe = relu(1.0f - U * U * k.invHalfWidth2);
  const float inside = clampf(qe * 6.0f, 0.0f, 1.0f);
  const float lidEdge = qe * k.edge;
  const float below = ramp(lidEdge - V, 1.0f / 1.2f, 0.5f);
  const float fromTop = ramp(V - (qe * -k.upper - k.topOffset), k.invTop, 0.0f);
  const float cover = below * fromTop * inside;
  const float l = clampf(1.0f - absf(V - lidEdge) * k.lashW, 0.0f, 1.0f) * inside * (k.op * 0.8f);
  const float lid = cover * k.op * (1.0f - l);
  const float light = clampf((lidEdge - V) * k.invLight, 0.0f, 1.0f);
  *lit = lid * light;
  *dark = lid - lid * light;
  *lash = l;
}

/* the eyes box: per eye an eyelid-coloured patch sliding down over the opening, lashes on its edge */
static void eyes(const Fields *f, const float *e) {
  const int w = f->ew, h = f->eh_;
  Eye k[2];
  for (int s = 0; s < 2; s++) {
    k[s] = (Eye){e[4 * s], e[4 * s + 1], e[4 * s + 2], e[4 * s + 3], f->invHalfWidth2[s], f->upper[s], f->topOffset[s], f->invTop[s], f->lashW[s], f->invLight[s]};
  }
  const Eye k0 = k[0], k1 = k[1];
  float cy[5];
  for (int c = 0; c < 5; c++) cy[c] = f->eyeColours[c][0];
  const float y0 = cy[0], y1 = cy[1], y2 = cy[2], y3 = cy[3], y4 = cy[4];
  for (int j = 0; j < h; j++) {
    const float *restrict u0 = f->eu[0] + j * w, *restrict v0 = f->ev[0] + j * w, *restrict u1 = f->eu[1] + j * w, *restrict v1 = f->ev[1] + j * w;
    float *restrict w0 = f->eyes.w0 + j * w, *restrict add = f->eyes.add + j * w;
    float *restrict a = f->wscratch, *restrict b = a + w, *restrict c = b + w, *restrict d = c + w, *restrict ls = d + w;
#pragma clang loop vectorize(enable)
    for (int i = 0; i < w; i++) {
      float a0, b0, l0, c1, d1, l1;
      lid(k0, u0[i], v0[i], &a0, &b0, &l0);
      lid(k1, u1[i], v1[i], &c1, &d1, &l1);
      const float l = l0 + l1;
      a[i] = a0;
      b[i] = b0;
      c[i] = c1;
      d[i] = d1;
      ls[i] = l;
      w0[i] = 1.0f - a0 - b0 - c1 - d1 - l;
      add[i] = a0 * y0 + b0 * y1 + c1 * y2 + d1 * y3 + l * y4;
    }
    if ((j & 1) == 0) half(&f->eyes, f->wscratch, w, h, j, f->eyeColours);
  }
}

/* the record's size in bytes: fields.ts's layout is checked against it */
EXPORT(fields_size)
int fields_size(void) { return (int)sizeof(Fields); }

EXPORT(fields)
void fields(const Fields *f, const float *in) {
  head(&f->head[0], in + C0);
  head(&f->head[1], in + C0);
  eyesBand(&f->eyesBand[0], &f->head[0], in + BLINK);
  eyesBand(&f->eyesBand[1], &f->head[1], in + BLINK);
  mouth(f, in + MOUTH);
  eyes(f, in + EYES);
}
