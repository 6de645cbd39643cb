// AVX-512 VNNI dot products for the hot integer formats. The 256-bit VNNI form (`vpdpbusd`
// on ymm, AVX512VL) replaces AVX2's maddubs + madd pair with one instruction and stays clear
// of 512-bit frequency drops; other types fall back to the AVX2 kernels.
#include "internal.h"
#include "kquants.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))

AVX512 static inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX512 static inline __m256i unpack_nibbles(const uint8_t *qs) {
    __m128i q = _mm_loadu_si128((const __m128i *)qs);
    __m256i both = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

AVX512 static inline __m256 dot_us8(__m256i u, __m256i s) {
    return _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s));
}

AVX512 static float dot_q4_0(int n, const void *w, const void *a) {
    const ck_block_q4_0 *x = w; const ck_block_q8 *y = a;
    __m256 acc = _mm256_setzero_ps();
    float off = 0;
    for (int i = 0; i < n / 32; i++) {
        float dw = _cvtsh_ss(x[i].d);
        __m256 p = dot_us8(unpack_nibbles(x[i].qs), _mm256_loadu_si256((const __m256i *)y[i].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dw * y[i].d), p, acc);
        off += dw * y[i].s;
    }
    return hsum_ps(acc) - 8.0f * off;
}

AVX512 static float dot_q4_1(int n, const void *w, const void *a) {
    const ck_block_q4_1 *x = w; const ck_block_q8 *y = a;
    __m256 acc = _mm256_setzero_ps();
    float off = 0;
    for (int i = 0; i < n / 32; i++) {
        __m256 p = dot_us8(unpack_nibbles(x[i].qs), _mm256_loadu_si256((const __m256i *)y[i].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(x[i].d) * y[i].d), p, acc);
        off += _cvtsh_ss(x[i].m) * y[i].s;
    }
    return hsum_ps(acc) + off;
}

AVX512 static float dot_q8_0(int n, const void *w, const void *a) {
    const ck_block_q8_0 *x = w; const ck_block_q8 *y = a;
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < n / 32; i++) {
        __m256i qx = _mm256_loadu_si256((const __m256i *)x[i].qs);
        __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        __m256 p = dot_us8(_mm256_abs_epi8(qx), _mm256_sign_epi8(qy, qx));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(x[i].d) * y[i].d), p, acc);
    }
    return hsum_ps(acc);
}

// Four weight rows against one activation row: four independent accumulator chains hide the
// FMA latency, and each activation block is loaded once for all four rows.
#define ROW(k) ((const void *)((const uint8_t *)w + (size_t)(k) * row_bytes))

AVX512 static void dot4_q4_1(int n, const void *w, size_t row_bytes, const void *a, float *out) {
    const ck_block_q4_1 *x0 = ROW(0), *x1 = ROW(1), *x2 = ROW(2), *x3 = ROW(3);
    const ck_block_q8 *y = a;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    __m128 off = _mm_setzero_ps();
    for (int i = 0; i < n / 32; i++) {
        __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        __m128 dy = _mm_set1_ps(y[i].d);
        // d and m of the four blocks, converted together
        __m128i dm = _mm_setr_epi16((short)x0[i].d, (short)x1[i].d, (short)x2[i].d, (short)x3[i].d,
                                    (short)x0[i].m, (short)x1[i].m, (short)x2[i].m, (short)x3[i].m);
        __m256 dmf = _mm256_cvtph_ps(dm);
        __m128 dd = _mm_mul_ps(_mm256_castps256_ps128(dmf), dy);
        off = _mm_fmadd_ps(_mm256_extractf128_ps(dmf, 1), _mm_set1_ps(y[i].s), off);
        __m256 p0 = dot_us8(unpack_nibbles(x0[i].qs), qy);
        __m256 p1 = dot_us8(unpack_nibbles(x1[i].qs), qy);
        __m256 p2 = dot_us8(unpack_nibbles(x2[i].qs), qy);
        __m256 p3 = dot_us8(unpack_nibbles(x3[i].qs), qy);
        acc0 = _mm256_fmadd_ps(_mm256_broadcastss_ps(dd), p0, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_permute_ps(dd, 0x55)), p1, acc1);
        acc2 = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_permute_ps(dd, 0xaa)), p2, acc2);
        acc3 = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_permute_ps(dd, 0xff)), p3, acc3);
    }
    float o[4];
    _mm_storeu_ps(o, off);
    out[0] = hsum_ps(acc0) + o[0];
    out[1] = hsum_ps(acc1) + o[1];
    out[2] = hsum_ps(acc2) + o[2];
    out[3] = hsum_ps(acc3) + o[3];
}

AVX512 static void dot4_q8_0(int n, const void *w, size_t row_bytes, const void *a, float *out) {
    const ck_block_q8_0 *x0 = ROW(0), *x1 = ROW(1), *x2 = ROW(2), *x3 = ROW(3);
    const ck_block_q8 *y = a;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    for (int i = 0; i < n / 32; i++) {
        __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        __m128i d = _mm_setr_epi16((short)x0[i].d, (short)x1[i].d, (short)x2[i].d, (short)x3[i].d, 0, 0, 0, 0);
        __m128 dd = _mm_mul_ps(_mm_cvtph_ps(d), _mm_set1_ps(y[i].d));
        __m256i q0 = _mm256_loadu_si256((const __m256i *)x0[i].qs);
        __m256i q1 = _mm256_loadu_si256((const __m256i *)x1[i].qs);
        __m256i q2 = _mm256_loadu_si256((const __m256i *)x2[i].qs);
        __m256i q3 = _mm256_loadu_si256((const __m256i *)x3[i].qs);
        __m256 p0 = dot_us8(_mm256_abs_epi8(q0), _mm256_sign_epi8(qy, q0));
        __m256 p1 = dot_us8(_mm256_abs_epi8(q1), _mm256_sign_epi8(qy, q1));
        __m256 p2 = dot_us8(_mm256_abs_epi8(q2), _mm256_sign_epi8(qy, q2));
        __m256 p3 = dot_us8(_mm256_abs_epi8(q3), _mm256_sign_epi8(qy, q3));
        acc0 = _mm256_fmadd_ps(_mm256_broadcastss_ps(dd), p0, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_permute_ps(dd, 0x55)), p1, acc1);
        acc2 = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_permute_ps(dd, 0xaa)), p2, acc2);
        acc3 = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_permute_ps(dd, 0xff)), p3, acc3);
    }
    out[0] = hsum_ps(acc0);
    out[1] = hsum_ps(acc1);
    out[2] = hsum_ps(acc2);
    out[3] = hsum_ps(acc3);
}

// Four weight rows x four activation rows (prefill): each weight block is unpacked once and
// used for four tokens, each activation block loaded once for four rows; 16 accumulators.

/// Horizontal sums of four vectors -> one __m128 {sum(v0), sum(v1), sum(v2), sum(v3)}.
/// Four horizontal sums rounded exactly like four hsum_ps calls, so a token's result is the
/// same whether the 4x4 GEMM or the 4-row dot computed it (batch invariance).
AVX512 static inline __m128 hsum4(__m256 v0, __m256 v1, __m256 v2, __m256 v3) {
    return _mm_setr_ps(hsum_ps(v0), hsum_ps(v1), hsum_ps(v2), hsum_ps(v3));
}

#define GEMM4X4_BODY(UNPACK, SCALES)                                                              \
    __m256 acc[4][4];                                                                             \
    for (int r = 0; r < 4; r++) for (int t = 0; t < 4; t++) acc[r][t] = _mm256_setzero_ps();      \
    __m128 off[4] = { _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps() };   \
    for (int i = 0; i < n / 32; i++) {                                                            \
        __m256i qw[4];                                                                            \
        __m128 dw, mw;                                                                            \
        SCALES;                                                                                   \
        for (int r = 0; r < 4; r++) qw[r] = UNPACK(r);                                            \
        for (int t = 0; t < 4; t++) {                                                             \
            const ck_block_q8 *y = (const ck_block_q8 *)((const uint8_t *)a + (size_t)t * a_row_bytes) + i; \
            __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);                             \
            __m128 d = _mm_mul_ps(dw, _mm_set1_ps(y->d));                                         \
            off[t] = _mm_fmadd_ps(mw, _mm_set1_ps(y->s), off[t]);                                 \
            acc[0][t] = _mm256_fmadd_ps(_mm256_broadcastss_ps(d), PROD(qw[0], qy), acc[0][t]);    \
            acc[1][t] = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_permute_ps(d, 0x55)), PROD(qw[1], qy), acc[1][t]); \
            acc[2][t] = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_permute_ps(d, 0xaa)), PROD(qw[2], qy), acc[2][t]); \
            acc[3][t] = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_permute_ps(d, 0xff)), PROD(qw[3], qy), acc[3][t]); \
        }                                                                                         \
    }                                                                                             \
    for (int t = 0; t < 4; t++) {                                                                 \
        __m128 sums = _mm_add_ps(hsum4(acc[0][t], acc[1][t], acc[2][t], acc[3][t]), off[t]);      \
        _mm_storeu_ps(y_out + (size_t)t * ldy, sums);                                             \
    }

#define PROD(w, y) dot_us8(w, y)
AVX512 static void gemm4x4_q4_1(int n, const void *w, size_t row_bytes, const void *a, size_t a_row_bytes,
                                float *y_out, int ldy) {
    const ck_block_q4_1 *x0 = ROW(0), *x1 = ROW(1), *x2 = ROW(2), *x3 = ROW(3);
#define UNPACK_Q4_1(r) unpack_nibbles((r == 0 ? x0 : r == 1 ? x1 : r == 2 ? x2 : x3)[i].qs)
#define SCALES_Q4_1 do { \
        __m256 dm = _mm256_cvtph_ps(_mm_setr_epi16((short)x0[i].d, (short)x1[i].d, (short)x2[i].d, (short)x3[i].d, \
                                                   (short)x0[i].m, (short)x1[i].m, (short)x2[i].m, (short)x3[i].m)); \
        dw = _mm256_castps256_ps128(dm); mw = _mm256_extractf128_ps(dm, 1); } while (0)
    GEMM4X4_BODY(UNPACK_Q4_1, SCALES_Q4_1)
}
#undef PROD

// Q8_0 is signed x signed: |w| x (y with w's sign); the sign fix depends on both operands.
#define PROD(w, y) dot_us8(_mm256_abs_epi8(w), _mm256_sign_epi8(y, w))
AVX512 static void gemm4x4_q8_0(int n, const void *w, size_t row_bytes, const void *a, size_t a_row_bytes,
                                float *y_out, int ldy) {
    const ck_block_q8_0 *x0 = ROW(0), *x1 = ROW(1), *x2 = ROW(2), *x3 = ROW(3);
#define UNPACK_Q8_0(r) _mm256_loadu_si256((const __m256i *)(r == 0 ? x0 : r == 1 ? x1 : r == 2 ? x2 : x3)[i].qs)
#define SCALES_Q8_0 do { \
        dw = _mm_cvtph_ps(_mm_setr_epi16((short)x0[i].d, (short)x1[i].d, (short)x2[i].d, (short)x3[i].d, 0, 0, 0, 0)); \
        mw = _mm_setzero_ps(); } while (0)
    GEMM4X4_BODY(UNPACK_Q8_0, SCALES_Q8_0)
}
#undef PROD

ck_gemm4x4_fn ck_gemm4x4_avx512_for(int type) {
    switch (type) {
    case CK_Q4_1: return gemm4x4_q4_1;
    case CK_Q8_0: return gemm4x4_q8_0;
    default: return ck_kq_gemm4x4_avx512_for(type);
    }
}

ck_dot4_fn ck_dot4_avx512_for(int type) {
    switch (type) {
    case CK_Q4_1: return dot4_q4_1;
    case CK_Q8_0: return dot4_q8_0;
    default: return ck_kq_dot4_avx512_for(type);
    }
}

ck_dot_fn ck_dot_avx512_for(int type) {
    switch (type) {
    case CK_Q4_0: return dot_q4_0;
    case CK_Q4_1: return dot_q4_1;
    case CK_Q8_0: return dot_q8_0;
    default: return ck_kq_dot_avx512_for(type);
    }
}

#else
ck_dot_fn ck_dot_avx512_for(int type) { (void)type; return 0; }
ck_dot4_fn ck_dot4_avx512_for(int type) { (void)type; return 0; }
ck_gemm4x4_fn ck_gemm4x4_avx512_for(int type) { (void)type; return 0; }
#endif
