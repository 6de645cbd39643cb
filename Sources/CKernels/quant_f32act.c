// Quantized weights times FLOAT activations, for decode-size batches.
//
// The int8 activation path rounds every matmul input to 8 bits per 32-value block; over 30
// layers that drifts greedy decoding away from a float reference at near-ties. Decode steps
// are bandwidth-bound, so unpacking weights to float and multiplying full-precision
// activations costs no extra wall time there; prefill (compute-bound) keeps the int8 path.
#include "kquants.h"

static int f32act_type(int type) {
    return type == CK_Q4_0 || type == CK_Q4_1 || type == CK_Q5_0 || type == CK_Q8_0;
}

/// Reference: dequantize the row blockwise and accumulate in double (any block format).
float ck_vec_dot_f32act_scalar(int type, int n, const void *w, const float *x) {
    float buf[CK_QK_K];
    int bs = ck_type_block_size(type), bb = ck_type_block_bytes(type);
    if (bs != 32 && bs != CK_QK_K) return 0;
    double s = 0;
    for (int i = 0; i < n / bs; i++) {
        ck_dequantize(type, (const uint8_t *)w + (size_t)i * bb, buf, bs);
        for (int j = 0; j < bs; j++) s += (double)buf[j] * x[(size_t)bs * i + j];
    }
    return (float)s;
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define F32ACT __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))

/// 32 weights of one block as two 16-float vectors (elements 0..15 and 16..31), without the
/// block's offset; `bias` receives the offset applied to every element (0, -8 or -16).
#define ROWB(k) ((const uint8_t *)w + (size_t)(k) * row_bytes)

F32ACT static inline void nibbles(const uint8_t *qs, __m512 *lo, __m512 *hi) {
    __m512i all = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)qs));
    *lo = _mm512_cvtepi32_ps(_mm512_and_si512(all, _mm512_set1_epi32(15)));
    *hi = _mm512_cvtepi32_ps(_mm512_srli_epi32(all, 4));
}

F32ACT static inline void q5_values(const uint8_t *qs, const uint8_t *qh, __m512 *lo, __m512 *hi) {
    uint32_t h = ck_load_u32(qh);
    __m512i all = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)qs));
    __m512i l = _mm512_and_si512(all, _mm512_set1_epi32(15));
    __m512i u = _mm512_srli_epi32(all, 4);
    l = _mm512_mask_add_epi32(l, (__mmask16)(h & 0xffff), l, _mm512_set1_epi32(16));
    u = _mm512_mask_add_epi32(u, (__mmask16)(h >> 16), u, _mm512_set1_epi32(16));
    *lo = _mm512_cvtepi32_ps(l);
    *hi = _mm512_cvtepi32_ps(u);
}

F32ACT static inline void q8_values(const int8_t *qs, __m512 *lo, __m512 *hi) {
    *lo = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)qs)));
    *hi = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(qs + 16))));
}

/// Block values as floats: w = d * q + c, where c is the block's additive term (the min for
/// Q4_1, -8d / -16d for Q4_0 / Q5_0, 0 for Q8_0). The 4-row dot and the 4x4 GEMM below do the
/// same operations per (row, token), in the same order, so a token's result never depends on
/// which of them computed it (batch invariance).
#define DEQUANT_BLOCK(BLOCK, VALUES, C)                                                           \
    __m512 lo, hi;                                                                                \
    VALUES;                                                                                       \
    float d = _cvtsh_ss(blk->d);                                                                  \
    __m512 vd = _mm512_set1_ps(d), vc = _mm512_set1_ps(C);                                        \
    __m512 wlo = _mm512_fmadd_ps(vd, lo, vc), whi = _mm512_fmadd_ps(vd, hi, vc);

#define KERNELS_F32(SUFFIX, BLOCK, VALUES, C)                                                      \
F32ACT static void dot4f_##SUFFIX(int n, const void *w, size_t row_bytes, const float *x, float *out) { \
    __m512 acc[4];                                                                                \
    for (int r = 0; r < 4; r++) acc[r] = _mm512_setzero_ps();                                     \
    for (int i = 0; i < n / 32; i++) {                                                            \
        __m512 x0 = _mm512_loadu_ps(x + 32 * i), x1 = _mm512_loadu_ps(x + 32 * i + 16);           \
        for (int r = 0; r < 4; r++) {                                                             \
            const BLOCK *blk = (const BLOCK *)ROWB(r) + i;                                        \
            DEQUANT_BLOCK(BLOCK, VALUES, C)                                                       \
            acc[r] = _mm512_fmadd_ps(wlo, x0, acc[r]);                                            \
            acc[r] = _mm512_fmadd_ps(whi, x1, acc[r]);                                            \
        }                                                                                         \
    }                                                                                             \
    for (int r = 0; r < 4; r++) out[r] = _mm512_reduce_add_ps(acc[r]);                            \
}                                                                                                 \
F32ACT static void gemm4x4f_##SUFFIX(int n, const void *w, size_t row_bytes, const float *x, float *y, int ldy) { \
    __m512 acc[4][4];                                                                             \
    for (int r = 0; r < 4; r++) for (int t = 0; t < 4; t++) acc[r][t] = _mm512_setzero_ps();      \
    for (int i = 0; i < n / 32; i++) {                                                            \
        __m512 W[4][2];                                                                           \
        for (int r = 0; r < 4; r++) {                                                             \
            const BLOCK *blk = (const BLOCK *)ROWB(r) + i;                                        \
            DEQUANT_BLOCK(BLOCK, VALUES, C)                                                       \
            W[r][0] = wlo; W[r][1] = whi;                                                         \
        }                                                                                         \
        for (int t = 0; t < 4; t++) {                                                             \
            __m512 x0 = _mm512_loadu_ps(x + (size_t)t * n + 32 * i);                              \
            __m512 x1 = _mm512_loadu_ps(x + (size_t)t * n + 32 * i + 16);                         \
            for (int r = 0; r < 4; r++) {                                                         \
                acc[r][t] = _mm512_fmadd_ps(W[r][0], x0, acc[r][t]);                              \
                acc[r][t] = _mm512_fmadd_ps(W[r][1], x1, acc[r][t]);                              \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
    for (int t = 0; t < 4; t++)                                                                   \
        for (int r = 0; r < 4; r++) y[(size_t)t * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);    \
}

KERNELS_F32(q4_0, ck_block_q4_0, nibbles(blk->qs, &lo, &hi), -8.0f * d)
KERNELS_F32(q4_1, ck_block_q4_1, nibbles(blk->qs, &lo, &hi), _cvtsh_ss(blk->m))
KERNELS_F32(q5_0, ck_block_q5_0, q5_values(blk->qs, blk->qh, &lo, &hi), -16.0f * d)
KERNELS_F32(q8_0, ck_block_q8_0, q8_values(blk->qs, &lo, &hi), 0.0f)

static ck_gemm4x4f_fn gemm4x4f_for(int type) {
    if (ck_cpu_isa() < CK_ISA_AVX512) return 0;
    switch (type) {
    case CK_Q4_0: return gemm4x4f_q4_0;
    case CK_Q4_1: return gemm4x4f_q4_1;
    case CK_Q5_0: return gemm4x4f_q5_0;
    case CK_Q8_0: return gemm4x4f_q8_0;
    default: return 0;
    }
}

static ck_dot4f_fn dot4f_for(int type) {
    if (ck_cpu_isa() < CK_ISA_AVX512) return 0;
    switch (type) {
    case CK_Q4_0: return dot4f_q4_0;
    case CK_Q4_1: return dot4f_q4_1;
    case CK_Q5_0: return dot4f_q5_0;
    case CK_Q8_0: return dot4f_q8_0;
    default: return 0;
    }
}
#else
static ck_dot4f_fn dot4f_for(int type) { (void)type; return 0; }
static ck_gemm4x4f_fn gemm4x4f_for(int type) { (void)type; return 0; }
#endif

/// Every ISA has the float-activation path (AVX-512 kernels, else the dequantize-and-dot
/// reference), so decode numerics and greedy outputs do not depend on the machine's ISA.
int ck_type_has_f32_kernel(int type) {
    return f32act_type(type) || ck_kq_has_f32_kernel(type);
}

/// Prompt rows (compute-bound) keep int8 activations where an int8 4x4 GEMM exists. Formats
/// with a float 4x4 GEMM but no int8 one (Q4_0, Q5_0 on AVX-512) multiply them faster as floats
/// (Q5_0, Gemma 3 270M shapes: about 4x; KQuantFloatActivationTests.testBenchmarkFloatVsInt8),
/// and unrounded as a bonus.
int ck_type_f32_for_prompt(int type) {
    return gemm4x4f_for(type) != 0 && (ck_cpu_isa() < CK_ISA_AVX512 || ck_gemm4x4_avx512_for(type) == 0);
}

void ck_matmul_rows_f32act(int type, int n, const void *w, size_t w_row_bytes, const float *x, int T,
                           float *y, int ldy, int row_begin, int row_end) {
    int kq = ck_kq_has_f32_kernel(type);
    ck_dot4f_fn fn4 = kq ? ck_kq_dot4f_for(type) : dot4f_for(type);
    ck_gemm4x4f_fn gemm = kq ? ck_kq_gemm4x4f_for(type) : gemm4x4f_for(type);
    float (*tail)(int, int, const void *, const float *) = kq ? ck_kq_vec_dot_f32act_scalar : ck_vec_dot_f32act_scalar;
    const uint8_t *wb = w;
    int r = row_begin;
    if (fn4) {
        float o[4];
        for (; r + 4 <= row_end; r += 4) {
            int t = 0;
            if (gemm)
                for (; t + 4 <= T; t += 4)
                    gemm(n, wb + (size_t)r * w_row_bytes, w_row_bytes, x + (size_t)t * n, y + (size_t)t * ldy + r, ldy);
            for (; t < T; t++) {
                fn4(n, wb + (size_t)r * w_row_bytes, w_row_bytes, x + (size_t)t * n, o);
                float *yt = y + (size_t)t * ldy + r;
                yt[0] = o[0]; yt[1] = o[1]; yt[2] = o[2]; yt[3] = o[3];
            }
        }
    }
    for (; r < row_end; r++)
        for (int t = 0; t < T; t++)
            y[(size_t)t * ldy + r] = tail(type, n, wb + (size_t)r * w_row_bytes, x + (size_t)t * n);
}
