// Quantized weights times FLOAT activations, for decode-size batches.
//
// The int8 activation path rounds every matmul input to 8 bits per 32-value block; over 30
// layers that drifts greedy decoding away from a float reference at near-ties. Decode steps
// are bandwidth-bound, so unpacking weights to float and multiplying full-precision
// activations costs no extra wall time there; prefill (compute-bound) keeps the int8 path.
#include "internal.h"

static int f32act_type(int type) {
    return type == CK_Q4_0 || type == CK_Q4_1 || type == CK_Q5_0 || type == CK_Q8_0;
}

/// Reference: dequantize the row blockwise and accumulate in double.
float ck_vec_dot_f32act_scalar(int type, int n, const void *w, const float *x) {
    float buf[32];
    int bs = ck_type_block_size(type), bb = ck_type_block_bytes(type);
    if (bs != 32) return 0;
    double s = 0;
    for (int i = 0; i < n / 32; i++) {
        ck_dequantize(type, (const uint8_t *)w + (size_t)i * bb, buf, 32);
        for (int j = 0; j < 32; j++) s += (double)buf[j] * x[32 * i + j];
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

/// Four rows: acc[r] += d_r * (lo*x0 + hi*x1); off[r] += c_r * (x0 + x1), where c_r is the
/// block's additive term (min for Q4_1, -8d / -16d for Q4_0 / Q5_0, 0 for Q8_0).
#define DOT4_F32(NAME, BLOCK, VALUES, D, C)                                                        \
F32ACT static void NAME(int n, const void *w, size_t row_bytes, const float *x, float *out) {    \
    const BLOCK *b[4] = { (const BLOCK *)ROWB(0), (const BLOCK *)ROWB(1), (const BLOCK *)ROWB(2), (const BLOCK *)ROWB(3) }; \
    __m512 acc[4], off[4];                                                                        \
    for (int r = 0; r < 4; r++) { acc[r] = _mm512_setzero_ps(); off[r] = _mm512_setzero_ps(); }  \
    for (int i = 0; i < n / 32; i++) {                                                            \
        __m512 x0 = _mm512_loadu_ps(x + 32 * i), x1 = _mm512_loadu_ps(x + 32 * i + 16);           \
        __m512 xs = _mm512_add_ps(x0, x1);                                                        \
        for (int r = 0; r < 4; r++) {                                                             \
            const BLOCK *blk = b[r] + i;                                                          \
            __m512 lo, hi;                                                                        \
            VALUES;                                                                               \
            float d = _cvtsh_ss(blk->d);                                                          \
            __m512 v = _mm512_fmadd_ps(hi, x1, _mm512_mul_ps(lo, x0));                            \
            acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(d), v, acc[r]);                               \
            off[r] = _mm512_fmadd_ps(_mm512_set1_ps(C), xs, off[r]);                              \
        }                                                                                         \
    }                                                                                             \
    for (int r = 0; r < 4; r++) out[r] = _mm512_reduce_add_ps(_mm512_add_ps(acc[r], off[r]));     \
}

DOT4_F32(dot4f_q4_0, ck_block_q4_0, nibbles(blk->qs, &lo, &hi), d, -8.0f * d)
DOT4_F32(dot4f_q4_1, ck_block_q4_1, nibbles(blk->qs, &lo, &hi), d, _cvtsh_ss(blk->m))
DOT4_F32(dot4f_q5_0, ck_block_q5_0, q5_values(blk->qs, blk->qh, &lo, &hi), d, -16.0f * d)
DOT4_F32(dot4f_q8_0, ck_block_q8_0, q8_values(blk->qs, &lo, &hi), d, 0.0f)

typedef void (*dot4f_fn)(int n, const void *w, size_t row_bytes, const float *x, float *out);

static dot4f_fn dot4f_for(int type) {
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
typedef void (*dot4f_fn)(int n, const void *w, size_t row_bytes, const float *x, float *out);
static dot4f_fn dot4f_for(int type) { (void)type; return 0; }
#endif

int ck_type_has_f32_kernel(int type) {
    return f32act_type(type) && dot4f_for(type) != 0;
}

void ck_matmul_rows_f32act(int type, int n, const void *w, size_t w_row_bytes, const float *x, int T,
                           float *y, int ldy, int row_begin, int row_end) {
    dot4f_fn fn4 = dot4f_for(type);
    const uint8_t *wb = w;
    int r = row_begin;
    if (fn4) {
        float o[4];
        for (; r + 4 <= row_end; r += 4) {
            for (int t = 0; t < T; t++) {
                fn4(n, wb + (size_t)r * w_row_bytes, w_row_bytes, x + (size_t)t * n, o);
                float *yt = y + (size_t)t * ldy + r;
                yt[0] = o[0]; yt[1] = o[1]; yt[2] = o[2]; yt[3] = o[3];
            }
        }
    }
    for (; r < row_end; r++)
        for (int t = 0; t < T; t++)
            y[(size_t)t * ldy + r] = ck_vec_dot_f32act_scalar(type, n, wb + (size_t)r * w_row_bytes, x + (size_t)t * n);
}
