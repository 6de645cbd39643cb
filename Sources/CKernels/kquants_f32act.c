// K-quant weights (Q2_K .. Q6_K) times FLOAT activations, for decode rows.
//
// Same role as quant_f32act.c for the 32-element formats: decode steps skip the int8 (Q8_K)
// activation rounding, which Gemma 3 amplifies into greedy divergences at near-ties.
//
// One arithmetic on every ISA, bit for bit. The kernels see exactly the weights ck_dequantize
// gives: an fp16 scale times a 6-bit sub-scale times a quant of at most 6 bits fits in 24 bits,
// so dl = d*sc, dl*q and dmin*m are exact, and `dl*q - dmin*m` rounds once whether fused or
// not (the AVX-512 kernels look these values up in per-sub-block tables, see below). The dot product then runs on sixteen float lanes: lane l
// accumulates, in element order, fmaf(w[16c + l], x[16c + l], acc[l]) over the row's 16-element
// chunks c, and the lanes are summed as a fixed tree (l + l+8, then +4, +2, +1). The scalar twin
// (ck_kq_vec_dot_f32act_scalar), the AVX2 kernels (two 8-lane halves) and the AVX-512 kernels
// (one 16-lane vector) all do exactly that, so results do not depend on the ISA, and the 4-row
// dot and the 4x4 GEMM give each token the same bits (batch invariance).
#include "kquants.h"
#include <math.h>

// fmaf where the canonical arithmetic says so, nothing fused anywhere else.
#pragma clang fp contract(off)

static int kq_type(int type) {
    return type == CK_Q2_K || type == CK_Q3_K || type == CK_Q4_K || type == CK_Q5_K || type == CK_Q6_K;
}

/// The fixed lane-summation tree shared by every ISA.
static float hsum16_scalar(const float acc[16]) {
    float s8[8], s4[4];
    for (int l = 0; l < 8; l++) s8[l] = acc[l] + acc[l + 8];
    for (int l = 0; l < 4; l++) s4[l] = s8[l] + s8[l + 4];
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

float ck_kq_vec_dot_f32act_scalar(int type, int n, const void *w, const float *x) {
    if (!kq_type(type)) return 0;
    float acc[16] = {0}, buf[CK_QK_K];
    size_t bb = (size_t)ck_type_block_bytes(type);
    for (int i = 0; i < n / CK_QK_K; i++) {
        ck_kq_dequantize(type, (const uint8_t *)w + (size_t)i * bb, buf, CK_QK_K);
        const float *xb = x + (size_t)i * CK_QK_K;
        for (int c = 0; c < CK_QK_K / 16; c++)
            for (int l = 0; l < 16; l++) acc[l] = fmaf(buf[16 * c + l], xb[16 * c + l], acc[l]);
    }
    return hsum16_scalar(acc);
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define KQ_AVX2 __attribute__((target("avx2,fma,f16c")))
#define KQ_AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl")))

/// Per row and super-block: w = dl[c] * q - ml[c] for the 16-element chunk c (ml = 0 for the
/// formats without mins). Every entry is an exact product.
/// Q6_K also keeps its quants here as bytes (AVX-512 only).
typedef struct { float dl[16]; float ml[16]; uint8_t u[CK_QK_K]; } kq_factors;

/// Sixteen bytes as floats times `d`, into out[0..15] (exact: small integers times an fp16 value).
KQ_AVX2 static inline void scale_u8(__m128i v, float d, float *out) {
    __m256 vd = _mm256_set1_ps(d);
    _mm256_storeu_ps(out, _mm256_mul_ps(vd, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v))));
    _mm256_storeu_ps(out + 8, _mm256_mul_ps(vd, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(v, 8)))));
}

KQ_AVX2 static inline void scale_i8(__m128i v, float d, float *out) {
    __m256 vd = _mm256_set1_ps(d);
    _mm256_storeu_ps(out, _mm256_mul_ps(vd, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v))));
    _mm256_storeu_ps(out + 8, _mm256_mul_ps(vd, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(v, 8)))));
}

/// Q4_K / Q5_K: one scale and min per 32 elements, each used for two chunks.
KQ_AVX2 static inline void factors_k4(const ck_block_q4_K *b, kq_factors *f) {
    uint8_t sc[8], m[8];
    ck_k4_scales_mins(b->scales, sc, m);
    __m128i s = _mm_loadl_epi64((const __m128i *)sc), mm = _mm_loadl_epi64((const __m128i *)m);
    scale_u8(_mm_unpacklo_epi8(s, s), _cvtsh_ss(b->d), f->dl);
    scale_u8(_mm_unpacklo_epi8(mm, mm), _cvtsh_ss(b->dmin), f->ml);
}

KQ_AVX2 static inline void factors_q4_K(const void *blk, kq_factors *f) { factors_k4(blk, f); }
KQ_AVX2 static inline void factors_q5_K(const void *blk, kq_factors *f) { factors_k4(blk, f); } // same header

KQ_AVX2 static inline void factors_q6_K(const void *blk, kq_factors *f) {
    const ck_block_q6_K *b = blk;
    scale_i8(_mm_loadu_si128((const __m128i *)b->scales), _cvtsh_ss(b->d), f->dl);
    // w = dl * (u - 32) = dl * u - 32 dl for u in 0..63: both terms and the result are exact
    for (int c = 0; c < 16; c += 8)
        _mm256_storeu_ps(f->ml + c, _mm256_mul_ps(_mm256_set1_ps(32.0f), _mm256_loadu_ps(f->dl + c)));
}

KQ_AVX2 static inline void factors_q2_K(const void *blk, kq_factors *f) {
    const ck_block_q2_K *b = blk;
    __m128i s = _mm_loadu_si128((const __m128i *)b->scales);
    scale_u8(_mm_and_si128(s, _mm_set1_epi8(0x0f)), _cvtsh_ss(b->d), f->dl);
    scale_u8(_mm_and_si128(_mm_srli_epi16(s, 4), _mm_set1_epi8(0x0f)), _cvtsh_ss(b->dmin), f->ml);
}

KQ_AVX2 static inline void factors_q3_K(const void *blk, kq_factors *f) {
    const ck_block_q3_K *b = blk;
    int8_t sc[16];
    ck_q3_K_scales(b->scales, sc);
    scale_i8(_mm_loadu_si128((const __m128i *)sc), _cvtsh_ss(b->d), f->dl);
    memset(f->ml, 0, sizeof f->ml);
}

/// Where the 32 quants of sub-block s (elements 32s .. 32s+31) come from:
/// q[l] = ((A[l] >> sa) & ma) | (((B[l] >> sb) & mb) << bs) - off, B optional.
typedef struct { const uint8_t *A, *B; int sa, ma, sb, mb, bs, off; } kq_src;

static inline kq_src src_q4_K(const void *blk, int s) {
    const ck_block_q4_K *b = blk;
    return (kq_src){ b->qs + 32 * (s >> 1), 0, 4 * (s & 1), 15, 0, 0, 0, 0 };
}
static inline kq_src src_q5_K(const void *blk, int s) {
    const ck_block_q5_K *b = blk;
    return (kq_src){ b->qs + 32 * (s >> 1), b->qh, 4 * (s & 1), 15, s, 1, 4, 0 };
}
static inline kq_src src_q6_K(const void *blk, int s) {
    const ck_block_q6_K *b = blk;
    int h = s >> 2, k = s & 3;
    return (kq_src){ b->ql + 64 * h + 32 * (k & 1), b->qh + 32 * h, 4 * (k >> 1), 15, 2 * k, 3, 4, 0 };
}
static inline kq_src src_q2_K(const void *blk, int s) {
    const ck_block_q2_K *b = blk;
    return (kq_src){ b->qs + 32 * (s >> 2), 0, 2 * (s & 3), 3, 0, 0, 0, 0 };
}
static inline kq_src src_q3_K(const void *blk, int s) {
    const ck_block_q3_K *b = blk;
    return (kq_src){ b->qs + 32 * (s >> 2), b->hmask, 2 * (s & 3), 3, s, 1, 2, 4 };
}

// MARK: - AVX-512: one 16-lane accumulator per (row, token)

// Weights by table look-up: a sub-block's weights take at most 32 distinct values, so they
// are computed once per sub-block (the same single-rounding dl * q - ml as everywhere) and
// each lane picks its own with vpermps, which reads only the index's low 4 bits (5 for
// vpermt2ps): the bits above need no masking. Q6_K has 64 values per 16 weights and converts
// its quants instead.

KQ_AVX512 static inline __m512i bytes16(const uint8_t *p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
}

/// Bits from `a` where `mask` is set, else from `b`.
KQ_AVX512 static inline __m512i select_bits(__m512i mask, __m512i a, __m512i b) {
    return _mm512_ternarylogic_epi32(a, b, mask, 0xE4);
}

#define IOTA16(o) _mm512_setr_ps(o + 0, o + 1, o + 2, o + 3, o + 4, o + 5, o + 6, o + 7,          \
                                 o + 8, o + 9, o + 10, o + 11, o + 12, o + 13, o + 14, o + 15)

KQ_AVX512 static inline void w32_q4_K(const void *blk, const kq_factors *f, int s, __m512 *w0, __m512 *w1) {
    const uint8_t *q = ((const ck_block_q4_K *)blk)->qs + 32 * (s >> 1);
    __m512i z0 = bytes16(q), z1 = bytes16(q + 16);
    if (s & 1) { z0 = _mm512_srli_epi32(z0, 4); z1 = _mm512_srli_epi32(z1, 4); }
    __m512 t = _mm512_fmsub_ps(_mm512_set1_ps(f->dl[2 * s]), IOTA16(0), _mm512_set1_ps(f->ml[2 * s]));
    *w0 = _mm512_permutexvar_ps(z0, t);
    *w1 = _mm512_permutexvar_ps(z1, t);
}

KQ_AVX512 static inline void w32_q5_K(const void *blk, const kq_factors *f, int s, __m512 *w0, __m512 *w1) {
    const ck_block_q5_K *b = blk;
    const uint8_t *q = b->qs + 32 * (s >> 1);
    __m512i z0 = bytes16(q), z1 = bytes16(q + 16);
    if (s & 1) { z0 = _mm512_srli_epi32(z0, 4); z1 = _mm512_srli_epi32(z1, 4); }
    // bit s of qh becomes index bit 4
    __m512i h0 = _mm512_srli_epi32(_mm512_slli_epi32(bytes16(b->qh), 4), (unsigned)s);
    __m512i h1 = _mm512_srli_epi32(_mm512_slli_epi32(bytes16(b->qh + 16), 4), (unsigned)s);
    __m512i low4 = _mm512_set1_epi32(0x0f);
    __m512 vd = _mm512_set1_ps(f->dl[2 * s]), vm = _mm512_set1_ps(f->ml[2 * s]);
    __m512 t0 = _mm512_fmsub_ps(vd, IOTA16(0), vm), t1 = _mm512_fmsub_ps(vd, IOTA16(16), vm);
    *w0 = _mm512_permutex2var_ps(t0, select_bits(low4, z0, h0), t1);
    *w1 = _mm512_permutex2var_ps(t0, select_bits(low4, z1, h1), t1);
}

/// Index bits 0-1: the quant; period-4 table.
KQ_AVX512 static inline void w32_q2_K(const void *blk, const kq_factors *f, int s, __m512 *w0, __m512 *w1) {
    const uint8_t *q = ((const ck_block_q2_K *)blk)->qs + 32 * (s >> 2);
    int sh = 2 * (s & 3);
    __m512i z0 = _mm512_srli_epi32(bytes16(q), (unsigned)sh), z1 = _mm512_srli_epi32(bytes16(q + 16), (unsigned)sh);
    __m512 iota4 = _mm512_setr_ps(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3);
    *w0 = _mm512_permutexvar_ps(z0, _mm512_fmsub_ps(_mm512_set1_ps(f->dl[2 * s]), iota4, _mm512_set1_ps(f->ml[2 * s])));
    *w1 = _mm512_permutexvar_ps(z1, _mm512_fmsub_ps(_mm512_set1_ps(f->dl[2 * s + 1]), iota4, _mm512_set1_ps(f->ml[2 * s + 1])));
}

/// Index bits 0-1: the low quant bits, bit 2: the hmask bit (set = no -4); period-8 table.
KQ_AVX512 static inline void w32_q3_K(const void *blk, const kq_factors *f, int s, __m512 *w0, __m512 *w1) {
    const ck_block_q3_K *b = blk;
    const uint8_t *q = b->qs + 32 * (s >> 2);
    int sh = 2 * (s & 3);
    __m512i low2 = _mm512_set1_epi32(3);
    __m512i i0 = select_bits(low2, _mm512_srli_epi32(bytes16(q), (unsigned)sh),
                             _mm512_srli_epi32(_mm512_slli_epi32(bytes16(b->hmask), 2), (unsigned)s));
    __m512i i1 = select_bits(low2, _mm512_srli_epi32(bytes16(q + 16), (unsigned)sh),
                             _mm512_srli_epi32(_mm512_slli_epi32(bytes16(b->hmask + 16), 2), (unsigned)s));
    __m512 qv = _mm512_setr_ps(-4, -3, -2, -1, 0, 1, 2, 3, -4, -3, -2, -1, 0, 1, 2, 3);
    *w0 = _mm512_permutexvar_ps(i0, _mm512_mul_ps(_mm512_set1_ps(f->dl[2 * s]), qv));
    *w1 = _mm512_permutexvar_ps(i1, _mm512_mul_ps(_mm512_set1_ps(f->dl[2 * s + 1]), qv));
}

/// The 256 quants u in 0..63 of a Q6_K block as bytes in element order, built 64 at a time
/// (byte shifts move bits across the bytes of a 16-bit lane; the masks keep only own bits).
KQ_AVX512 static inline void q6_K_bytes(const ck_block_q6_K *b, uint8_t u[CK_QK_K]) {
    const __m512i m4 = _mm512_set1_epi8(0x0f), m6 = _mm512_set1_epi8(0x3f);
    for (int h = 0; h < 2; h++) {
        __m512i l = _mm512_loadu_si512(b->ql + 64 * h); // k = 0, 1 in the low nibbles, 2, 3 in the high
        __m256i qh = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
        // high bits of k = 0 (bits 0-1) and 2 (bits 4-5) in the low 32 bytes, of k = 1 and 3 in the high
        __m512i hb = _mm512_inserti64x4(_mm512_castsi256_si512(qh), _mm256_srli_epi16(qh, 2), 1);
        __m512i u01 = _mm512_and_si512(select_bits(m4, l, _mm512_slli_epi16(hb, 4)), m6);
        __m512i u23 = _mm512_and_si512(select_bits(m4, _mm512_srli_epi16(l, 4), hb), m6);
        _mm512_storeu_si512(u + 128 * h, u01);
        _mm512_storeu_si512(u + 128 * h + 64, u23);
    }
}

/// w = dl * u - 32 dl (ml holds 32 dl), from the bytes q6_K_bytes left in the factors.
KQ_AVX512 static inline void w32_q6_K(const void *blk, const kq_factors *f, int s, __m512 *w0, __m512 *w1) {
    (void)blk;
    *w0 = _mm512_fmsub_ps(_mm512_set1_ps(f->dl[2 * s]), _mm512_cvtepi32_ps(bytes16(f->u + 32 * s)), _mm512_set1_ps(f->ml[2 * s]));
    *w1 = _mm512_fmsub_ps(_mm512_set1_ps(f->dl[2 * s + 1]), _mm512_cvtepi32_ps(bytes16(f->u + 32 * s + 16)), _mm512_set1_ps(f->ml[2 * s + 1]));
}

/// Per row and super-block set-up of the AVX-512 kernels: the factors, and Q6_K's quant bytes.
/// The empty asm keeps them in memory: left to itself the compiler forwards the stored vectors
/// through registers, and extracting lanes there costs more shuffles than the loads it saves.
#define PREP512(SUFFIX, EXTRA)                                                                    \
KQ_AVX512 static inline void prep512_##SUFFIX(const void *blk, kq_factors *f) {                   \
    factors_##SUFFIX(blk, f);                                                                     \
    EXTRA;                                                                                        \
    __asm__ volatile("" : : "r"(f) : "memory");                                                   \
}
PREP512(q2_K, (void)0)
PREP512(q3_K, (void)0)
PREP512(q4_K, (void)0)
PREP512(q5_K, (void)0)
PREP512(q6_K, q6_K_bytes(blk, f->u))

/// The canonical lane tree: 256-bit halves, then 128-bit halves, then pairs.
KQ_AVX512 static inline float hsum16_avx512(__m512 v) {
    __m256 lo = _mm512_castps512_ps256(v);
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    __m256 a = _mm256_add_ps(lo, hi);                                                  // l + l+8
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));      // + l+4
    b = _mm_add_ps(b, _mm_movehl_ps(b, b));                                             // + l+2
    return _mm_cvtss_f32(_mm_add_ss(b, _mm_movehdup_ps(b)));                            // + l+1
}

#define ROWB(k) ((const uint8_t *)w + (size_t)(k) * row_bytes)

#define KQ_KERNELS_AVX512(SUFFIX, BLOCK)                                                          \
KQ_AVX512 static void dot4f_##SUFFIX##_avx512(int n, const void *w, size_t row_bytes, const float *x, float *out) { \
    __m512 acc[4];                                                                                \
    for (int r = 0; r < 4; r++) acc[r] = _mm512_setzero_ps();                                     \
    for (int i = 0; i < n / CK_QK_K; i++) {                                                       \
        const BLOCK *b[4];                                                                        \
        kq_factors f[4];                                                                          \
        for (int r = 0; r < 4; r++) { b[r] = (const BLOCK *)ROWB(r) + i; prep512_##SUFFIX(b[r], &f[r]); } \
        const float *xb = x + (size_t)i * CK_QK_K;                                                \
        _Pragma("clang loop unroll(full)") /* constant shifts */                                 \
        for (int s = 0; s < 8; s++) {                                                             \
            __m512 x0 = _mm512_loadu_ps(xb + 32 * s), x1 = _mm512_loadu_ps(xb + 32 * s + 16);     \
            for (int r = 0; r < 4; r++) {                                                         \
                __m512 w0, w1;                                                                    \
                w32_##SUFFIX(b[r], &f[r], s, &w0, &w1);                      \
                acc[r] = _mm512_fmadd_ps(w0, x0, acc[r]);                                         \
                acc[r] = _mm512_fmadd_ps(w1, x1, acc[r]);                                         \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
    for (int r = 0; r < 4; r++) out[r] = hsum16_avx512(acc[r]);                                   \
}                                                                                                 \
KQ_AVX512 static void gemm4x4f_##SUFFIX##_avx512(int n, const void *w, size_t row_bytes, const float *x, float *y, int ldy) { \
    __m512 acc[4][4];                                                                             \
    for (int r = 0; r < 4; r++) for (int t = 0; t < 4; t++) acc[r][t] = _mm512_setzero_ps();      \
    for (int i = 0; i < n / CK_QK_K; i++) {                                                       \
        const BLOCK *b[4];                                                                        \
        kq_factors f[4];                                                                          \
        for (int r = 0; r < 4; r++) { b[r] = (const BLOCK *)ROWB(r) + i; prep512_##SUFFIX(b[r], &f[r]); } \
        _Pragma("clang loop unroll(full)") /* constant shifts */                                 \
        for (int s = 0; s < 8; s++) {                                                             \
            __m512 W[4][2];                                                                       \
            for (int r = 0; r < 4; r++) w32_##SUFFIX(b[r], &f[r], s, &W[r][0], &W[r][1]);          \
            for (int t = 0; t < 4; t++) {                                                         \
                const float *xt = x + (size_t)t * n + (size_t)i * CK_QK_K + 32 * s;               \
                __m512 x0 = _mm512_loadu_ps(xt), x1 = _mm512_loadu_ps(xt + 16);                   \
                for (int r = 0; r < 4; r++) {                                                     \
                    acc[r][t] = _mm512_fmadd_ps(W[r][0], x0, acc[r][t]);                          \
                    acc[r][t] = _mm512_fmadd_ps(W[r][1], x1, acc[r][t]);                          \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
    for (int t = 0; t < 4; t++)                                                                   \
        for (int r = 0; r < 4; r++) y[(size_t)t * ldy + r] = hsum16_avx512(acc[r][t]);           \
}

KQ_KERNELS_AVX512(q2_K, ck_block_q2_K)
KQ_KERNELS_AVX512(q3_K, ck_block_q3_K)
KQ_KERNELS_AVX512(q4_K, ck_block_q4_K)
KQ_KERNELS_AVX512(q5_K, ck_block_q5_K)
KQ_KERNELS_AVX512(q6_K, ck_block_q6_K)

// MARK: - AVX2: the same sixteen lanes as two 8-lane halves

KQ_AVX2 static inline __m256 quants8(const kq_src *q, int l0) {
    __m256i a = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(q->A + l0)));
    __m256i v = _mm256_and_si256(_mm256_srli_epi32(a, q->sa), _mm256_set1_epi32(q->ma));
    if (q->B) {
        __m256i b = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(q->B + l0)));
        b = _mm256_and_si256(_mm256_srli_epi32(b, q->sb), _mm256_set1_epi32(q->mb));
        v = _mm256_or_si256(v, _mm256_slli_epi32(b, q->bs));
    }
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(v, _mm256_set1_epi32(q->off)));
}

/// Sub-block s as four 8-weight quarters (lanes 0-7 and 8-15 of its two chunks).
KQ_AVX2 static inline void weights32_avx2(kq_src q, const kq_factors *f, int s, __m256 wq[4]) {
    for (int h = 0; h < 4; h++) {
        int c = 2 * s + (h >> 1);
        wq[h] = _mm256_fmsub_ps(_mm256_set1_ps(f->dl[c]), quants8(&q, 8 * h), _mm256_set1_ps(f->ml[c]));
    }
}

KQ_AVX2 static inline float hsum16_avx2(__m256 lo, __m256 hi) {
    __m256 a = _mm256_add_ps(lo, hi);
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    b = _mm_add_ps(b, _mm_movehl_ps(b, b));
    return _mm_cvtss_f32(_mm_add_ss(b, _mm_movehdup_ps(b)));
}

// The AVX2 GEMM tile is four dot4 passes (sixteen 16-lane accumulators would not fit in
// sixteen registers), so batched tokens trivially match solo ones.
#define KQ_KERNELS_AVX2(SUFFIX, BLOCK)                                                            \
KQ_AVX2 static void dot4f_##SUFFIX##_avx2(int n, const void *w, size_t row_bytes, const float *x, float *out) { \
    __m256 acc[4][2];                                                                             \
    for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();                      \
    for (int i = 0; i < n / CK_QK_K; i++) {                                                       \
        const BLOCK *b[4];                                                                        \
        kq_factors f[4];                                                                          \
        for (int r = 0; r < 4; r++) { b[r] = (const BLOCK *)ROWB(r) + i; factors_##SUFFIX(b[r], &f[r]); } \
        const float *xb = x + (size_t)i * CK_QK_K;                                                \
        for (int s = 0; s < 8; s++) {                                                             \
            __m256 xq[4];                                                                         \
            for (int h = 0; h < 4; h++) xq[h] = _mm256_loadu_ps(xb + 32 * s + 8 * h);             \
            for (int r = 0; r < 4; r++) {                                                         \
                __m256 wq[4];                                                                     \
                weights32_avx2(src_##SUFFIX(b[r], s), &f[r], s, wq);                              \
                /* chunk 2s (lanes 0-7, 8-15), then chunk 2s+1: the 16-lane order */              \
                acc[r][0] = _mm256_fmadd_ps(wq[0], xq[0], acc[r][0]);                             \
                acc[r][1] = _mm256_fmadd_ps(wq[1], xq[1], acc[r][1]);                             \
                acc[r][0] = _mm256_fmadd_ps(wq[2], xq[2], acc[r][0]);                             \
                acc[r][1] = _mm256_fmadd_ps(wq[3], xq[3], acc[r][1]);                             \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
    for (int r = 0; r < 4; r++) out[r] = hsum16_avx2(acc[r][0], acc[r][1]);                       \
}

KQ_KERNELS_AVX2(q2_K, ck_block_q2_K)
KQ_KERNELS_AVX2(q3_K, ck_block_q3_K)
KQ_KERNELS_AVX2(q4_K, ck_block_q4_K)
KQ_KERNELS_AVX2(q5_K, ck_block_q5_K)
KQ_KERNELS_AVX2(q6_K, ck_block_q6_K)

ck_dot4f_fn ck_kq_dot4f_for(int type) {
    int isa = ck_cpu_isa();
    if (isa >= CK_ISA_AVX512) {
        switch (type) {
        case CK_Q2_K: return dot4f_q2_K_avx512;
        case CK_Q3_K: return dot4f_q3_K_avx512;
        case CK_Q4_K: return dot4f_q4_K_avx512;
        case CK_Q5_K: return dot4f_q5_K_avx512;
        case CK_Q6_K: return dot4f_q6_K_avx512;
        default: return 0;
        }
    }
    if (isa >= CK_ISA_AVX2) {
        switch (type) {
        case CK_Q2_K: return dot4f_q2_K_avx2;
        case CK_Q3_K: return dot4f_q3_K_avx2;
        case CK_Q4_K: return dot4f_q4_K_avx2;
        case CK_Q5_K: return dot4f_q5_K_avx2;
        case CK_Q6_K: return dot4f_q6_K_avx2;
        default: return 0;
        }
    }
    return 0;
}

ck_gemm4x4f_fn ck_kq_gemm4x4f_for(int type) {
    if (ck_cpu_isa() < CK_ISA_AVX512) return 0;
    switch (type) {
    case CK_Q2_K: return gemm4x4f_q2_K_avx512;
    case CK_Q3_K: return gemm4x4f_q3_K_avx512;
    case CK_Q4_K: return gemm4x4f_q4_K_avx512;
    case CK_Q5_K: return gemm4x4f_q5_K_avx512;
    case CK_Q6_K: return gemm4x4f_q6_K_avx512;
    default: return 0;
    }
}
#else
ck_dot4f_fn ck_kq_dot4f_for(int type) { (void)type; return 0; }
ck_gemm4x4f_fn ck_kq_gemm4x4f_for(int type) { (void)type; return 0; }
#endif

int ck_kq_has_f32_kernel(int type) { return kq_type(type); }
