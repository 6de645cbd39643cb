// AVX-512 VNNI dot products for the hot integer formats. The 256-bit VNNI form (`vpdpbusd`
// on ymm, AVX512VL) replaces AVX2's maddubs + madd pair with one instruction and stays clear
// of 512-bit frequency drops; other types fall back to the AVX2 kernels.
#include "internal.h"

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

ck_dot_fn ck_dot_avx512_for(int type) {
    switch (type) {
    case CK_Q4_0: return dot_q4_0;
    case CK_Q4_1: return dot_q4_1;
    case CK_Q8_0: return dot_q8_0;
    default: return 0;
    }
}

#else
ck_dot_fn ck_dot_avx512_for(int type) { (void)type; return 0; }
#endif
