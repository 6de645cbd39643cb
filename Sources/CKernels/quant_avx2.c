// AVX2 + FMA + F16C dot products and activation quantization.
#include "internal.h"
#include "kquants.h"
#include <math.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma,f16c")))

AVX2 static inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2 static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

/// 32 nibbles of a 4-bit block as bytes: low lane = low nibbles (elements 0..15), high lane = high.
AVX2 static inline __m256i unpack_nibbles(const uint8_t *qs) {
    __m128i q = _mm_loadu_si128((const __m128i *)qs);
    __m256i both = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

/// Byte k = 0xff when bit k of the 32-bit mask is set.
AVX2 static inline __m256i bytes_from_bits(const uint8_t *p) {
    uint32_t x32 = ck_load_u32(p);
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                           0x0101010101010101, 0x0000000000000000);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)x32), shuf);
    bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));
}

/// Sum of u8 * s8 products, as 8 int32 lanes converted to float.
AVX2 static inline __m256 mul_sum_us8(__m256i u, __m256i s) {
    __m256i p16 = _mm256_maddubs_epi16(u, s);
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
}

AVX2 static float dot_q4_0(int n, const void *w, const void *a) {
    const ck_block_q4_0 *x = w; const ck_block_q8 *y = a;
    __m256 acc = _mm256_setzero_ps();
    float off = 0;
    for (int i = 0; i < n / 32; i++) {
        float dw = h2f(x[i].d);
        __m256 p = mul_sum_us8(unpack_nibbles(x[i].qs), _mm256_loadu_si256((const __m256i *)y[i].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dw * y[i].d), p, acc);
        off += dw * y[i].s;
    }
    return hsum_ps(acc) - 8.0f * off;
}

AVX2 static float dot_q4_1(int n, const void *w, const void *a) {
    const ck_block_q4_1 *x = w; const ck_block_q8 *y = a;
    __m256 acc = _mm256_setzero_ps();
    float off = 0;
    for (int i = 0; i < n / 32; i++) {
        __m256 p = mul_sum_us8(unpack_nibbles(x[i].qs), _mm256_loadu_si256((const __m256i *)y[i].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * y[i].d), p, acc);
        off += h2f(x[i].m) * y[i].s;
    }
    return hsum_ps(acc) + off;
}

AVX2 static inline __m256i q5_bytes(const uint8_t *qs, const uint8_t *qh) {
    __m256i hi = _mm256_and_si256(bytes_from_bits(qh), _mm256_set1_epi8(0x10));
    return _mm256_or_si256(unpack_nibbles(qs), hi);
}

AVX2 static float dot_q5_0(int n, const void *w, const void *a) {
    const ck_block_q5_0 *x = w; const ck_block_q8 *y = a;
    __m256 acc = _mm256_setzero_ps();
    float off = 0;
    for (int i = 0; i < n / 32; i++) {
        float dw = h2f(x[i].d);
        __m256 p = mul_sum_us8(q5_bytes(x[i].qs, x[i].qh), _mm256_loadu_si256((const __m256i *)y[i].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dw * y[i].d), p, acc);
        off += dw * y[i].s;
    }
    return hsum_ps(acc) - 16.0f * off;
}

AVX2 static float dot_q5_1(int n, const void *w, const void *a) {
    const ck_block_q5_1 *x = w; const ck_block_q8 *y = a;
    __m256 acc = _mm256_setzero_ps();
    float off = 0;
    for (int i = 0; i < n / 32; i++) {
        __m256 p = mul_sum_us8(q5_bytes(x[i].qs, x[i].qh), _mm256_loadu_si256((const __m256i *)y[i].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * y[i].d), p, acc);
        off += h2f(x[i].m) * y[i].s;
    }
    return hsum_ps(acc) + off;
}

AVX2 static float dot_q8_0(int n, const void *w, const void *a) {
    const ck_block_q8_0 *x = w; const ck_block_q8 *y = a;
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < n / 32; i++) {
        __m256i qx = _mm256_loadu_si256((const __m256i *)x[i].qs);
        __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);
        // maddubs needs an unsigned operand: |x| * (y with x's sign)
        __m256 p = mul_sum_us8(_mm256_sign_epi8(qx, qx), _mm256_sign_epi8(qy, qx));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * y[i].d), p, acc);
    }
    return hsum_ps(acc);
}

AVX2 static float dot_f32(int n, const void *w, const void *a) {
    const float *x = w, *y = a;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
    }
    float s = hsum_ps(_mm256_add_ps(acc0, acc1));
    for (; i < n; i++) s += x[i] * y[i];
    return s;
}

AVX2 static float dot_f16(int n, const void *w, const void *a) {
    const uint16_t *x = w; const float *y = a;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i)));
        __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i + 8)));
        acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(y + i + 8), acc1);
    }
    float s = hsum_ps(_mm256_add_ps(acc0, acc1));
    for (; i < n; i++) s += h2f(x[i]) * y[i];
    return s;
}

AVX2 static float dot_bf16(int n, const void *w, const void *a) {
    const uint16_t *x = w; const float *y = a;
    __m256 acc = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i wi = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(x + i))), 16);
        acc = _mm256_fmadd_ps(_mm256_castsi256_ps(wi), _mm256_loadu_ps(y + i), acc);
    }
    float s = hsum_ps(acc);
    for (; i < n; i++) s += ck_bf16_to_fp32(x[i]) * y[i];
    return s;
}

ck_dot_fn ck_dot_avx2_for(int type) {
    switch (type) {
    case CK_F32: return dot_f32;
    case CK_F16: return dot_f16;
    case CK_BF16: return dot_bf16;
    case CK_Q4_0: return dot_q4_0;
    case CK_Q4_1: return dot_q4_1;
    case CK_Q5_0: return dot_q5_0;
    case CK_Q5_1: return dot_q5_1;
    case CK_Q8_0: return dot_q8_0;
    default: return ck_kq_dot_avx2_for(type);
    }
}

AVX2 void ck_quantize_q8_avx2(const float *x, ck_block_q8 *y, int n) {
    const __m256 signbit = _mm256_set1_ps(-0.0f);
    for (int i = 0; i < n / 32; i++, x += 32) {
        __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
        __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(signbit, v0), _mm256_andnot_ps(signbit, v1)),
                                 _mm256_max_ps(_mm256_andnot_ps(signbit, v2), _mm256_andnot_ps(signbit, v3)));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        float amax = _mm_cvtss_f32(m4);
        float d = amax / 127.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        __m256 s = _mm256_set1_ps(id);
#define rnd (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
        __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, s), rnd));
        __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, s), rnd));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, s), rnd));
        __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, s), rnd));
        __m256i sum = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
        s4 = _mm_hadd_epi32(s4, s4);
        s4 = _mm_hadd_epi32(s4, s4);
        // pack 32 int32 -> 32 int8, then undo the lane interleaving of the packs
        __m256i p01 = _mm256_packs_epi32(i0, i1);
        __m256i p23 = _mm256_packs_epi32(i2, i3);
        __m256i p = _mm256_packs_epi16(p01, p23);
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)y[i].qs, p);
        y[i].d = d;
        y[i].s = d * (float)_mm_cvtsi128_si32(s4);
    }
}

#else
ck_dot_fn ck_dot_avx2_for(int type) { return ck_kq_dot_avx2_for(type); }
void ck_quantize_q8_avx2(const float *x, ck_block_q8 *y, int n) { ck_quantize_q8_scalar(x, y, n); }
#endif
