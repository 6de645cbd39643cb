// K-quants with AVX2 + FMA + F16C: dot products against ck_block_q8_K and the Q8_K quantizer.
//
// Every kernel computes the same exact integer sums per super-block as its scalar twin in
// kquants_scalar.c: weights are unpacked to unsigned bytes (offsets such as Q6_K's -32 are
// folded back in through the activation block sums), `maddubs` multiplies them with the int8
// activations into int16 pairs (at most 2 * 63 * 127, no saturation), and `madd` against the
// sub-block scales widens to int32.
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

AVX2 static inline __m256i load256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

/// Shuffle mask for _mm_shuffle_epi8 picking byte s eight times, then byte s + 1 eight times:
/// after widening to int16 it scales 32 maddubs outputs that span two 16-element sub-blocks.
AVX2 static inline __m128i pair_mask(int s) {
    return _mm_set_epi64x((long long)(0x0101010101010101ull * (uint64_t)(s + 1)),
                          (long long)(0x0101010101010101ull * (uint64_t)s));
}

/// Signed int8 scales s and s + 1 of a 16-scale vector as [s x8, s+1 x8] int16.
AVX2 static inline __m256i scale_pair_i8(__m128i sc8, int s) {
    return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, pair_mask(s)));
}

/// Unsigned 4-bit scales s and s + 1 as [s x8, s+1 x8] int16.
AVX2 static inline __m256i scale_pair_u8(__m128i sc8, int s) {
    return _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sc8, pair_mask(s)));
}

/// sum(u[k] * s[k]) widened to int32, weighted per int16 pair by `scale`.
AVX2 static inline __m256i scaled_dot(__m256i u, const int8_t *y, __m256i scale) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, load256(y)), scale);
}

// MARK: - Q2_K

AVX2 static float dot_q2_K(int n, const void *w, const void *a) {
    const ck_block_q2_K *x = w; const ck_block_q8_K *y = a;
    const __m256i m3 = _mm256_set1_epi8(3);
    const __m128i m4 = _mm_set1_epi8(0x0f);
    __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
    for (int i = 0; i < n / CK_QK_K; i++) {
        __m128i packed = _mm_loadu_si128((const __m128i *)x[i].scales);
        __m128i sc = _mm_and_si128(packed, m4);
        __m128i mn = _mm_and_si128(_mm_srli_epi16(packed, 4), m4);
        __m256i summ = _mm256_madd_epi16(_mm256_cvtepu8_epi16(mn), load256(y[i].bsums));
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i q = load256(x[i].qs + 32 * h);
            for (int j = 0; j < 4; j++) {
                __m256i v = _mm256_and_si256(_mm256_srli_epi16(q, 2 * j), m3);
                sumi = _mm256_add_epi32(sumi, scaled_dot(v, y[i].qs + 128 * h + 32 * j, scale_pair_u8(sc, 8 * h + 2 * j)));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
        accm = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].dmin) * y[i].d), _mm256_cvtepi32_ps(summ), accm);
    }
    return hsum_ps(acc) - hsum_ps(accm);
}

// MARK: - Q3_K

AVX2 static float dot_q3_K(int n, const void *w, const void *a) {
    const ck_block_q3_K *x = w; const ck_block_q8_K *y = a;
    const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < n / CK_QK_K; i++) {
        int8_t scales[16];
        ck_q3_K_scales(x[i].scales, scales);
        __m128i sc = _mm_loadu_si128((const __m128i *)scales);
        // quants are u - 4 with u = low bits | high bit << 2 in 0..7
        __m256i off = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc), load256(y[i].bsums));
        __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(off, 2));
        __m256i hm = load256(x[i].hmask);
        for (int h = 0; h < 2; h++) {
            __m256i q = load256(x[i].qs + 32 * h);
            for (int j = 0; j < 4; j++) {
                __m256i lo = _mm256_and_si256(_mm256_srli_epi16(q, 2 * j), m3);
                __m256i hi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + j), one), 2);
                __m256i u = _mm256_or_si256(lo, hi);
                sumi = _mm256_add_epi32(sumi, scaled_dot(u, y[i].qs + 128 * h + 32 * j, scale_pair_i8(sc, 8 * h + 2 * j)));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum_ps(acc);
}

// MARK: - Q4_K and Q5_K

/// The eight Q4_K/Q5_K scales (int16, repeated in both 128-bit lanes) and the min term
/// sum(m[j] * (bsums[2j] + bsums[2j+1])) as four int32 partial sums.
AVX2 static inline __m256i k4_scales(const uint8_t *packed, const int16_t *bsums, __m128i *mins_dot) {
    uint8_t sc[8], m[8];
    ck_k4_scales_mins(packed, sc, m);
    __m128i sc16 = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)sc));
    __m128i m16 = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)m));
    __m256i bs = load256(bsums);
    __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
    *mins_dot = _mm_madd_epi16(m16, pairs);
    return _mm256_broadcastsi128_si256(sc16);
}

/// Broadcasts int16 element j of each 128-bit lane.
AVX2 static inline __m256i bcast16(__m256i v, int j) {
    return _mm256_shuffle_epi8(v, _mm256_set1_epi16((short)(((2 * j + 1) << 8) | (2 * j))));
}

AVX2 static float dot_q4_K(int n, const void *w, const void *a) {
    const ck_block_q4_K *x = w; const ck_block_q8_K *y = a;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 acc = _mm256_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int i = 0; i < n / CK_QK_K; i++) {
        __m128i mins;
        __m256i scales = k4_scales(x[i].scales, y[i].bsums, &mins);
        __m256i sumi = _mm256_setzero_si256();
        for (int g = 0; g < 4; g++) {
            __m256i q = load256(x[i].qs + 32 * g);
            __m256i lo = _mm256_and_si256(q, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            sumi = _mm256_add_epi32(sumi, scaled_dot(lo, y[i].qs + 64 * g, bcast16(scales, 2 * g)));
            sumi = _mm256_add_epi32(sumi, scaled_dot(hi, y[i].qs + 64 * g + 32, bcast16(scales, 2 * g + 1)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
        accm = _mm_fmadd_ps(_mm_set1_ps(h2f(x[i].dmin) * y[i].d), _mm_cvtepi32_ps(mins), accm);
    }
    accm = _mm_add_ps(accm, _mm_movehl_ps(accm, accm));
    accm = _mm_add_ss(accm, _mm_movehdup_ps(accm));
    return hsum_ps(acc) - _mm_cvtss_f32(accm);
}

AVX2 static float dot_q5_K(int n, const void *w, const void *a) {
    const ck_block_q5_K *x = w; const ck_block_q8_K *y = a;
    const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int i = 0; i < n / CK_QK_K; i++) {
        __m128i mins;
        __m256i scales = k4_scales(x[i].scales, y[i].bsums, &mins);
        __m256i qh = load256(x[i].qh);
        __m256i sumi = _mm256_setzero_si256();
        for (int g = 0; g < 4; g++) {
            __m256i q = load256(x[i].qs + 32 * g);
            __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), one);
            __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * g + 1), one);
            __m256i lo = _mm256_or_si256(_mm256_and_si256(q, m4), _mm256_slli_epi16(h0, 4));
            __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), _mm256_slli_epi16(h1, 4));
            sumi = _mm256_add_epi32(sumi, scaled_dot(lo, y[i].qs + 64 * g, bcast16(scales, 2 * g)));
            sumi = _mm256_add_epi32(sumi, scaled_dot(hi, y[i].qs + 64 * g + 32, bcast16(scales, 2 * g + 1)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
        accm = _mm_fmadd_ps(_mm_set1_ps(h2f(x[i].dmin) * y[i].d), _mm_cvtepi32_ps(mins), accm);
    }
    accm = _mm_add_ps(accm, _mm_movehl_ps(accm, accm));
    accm = _mm_add_ss(accm, _mm_movehdup_ps(accm));
    return hsum_ps(acc) - _mm_cvtss_f32(accm);
}

// MARK: - Q6_K

AVX2 static float dot_q6_K(int n, const void *w, const void *a) {
    const ck_block_q6_K *x = w; const ck_block_q8_K *y = a;
    const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(0x30);
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < n / CK_QK_K; i++) {
        __m128i sc = _mm_loadu_si128((const __m128i *)x[i].scales);
        // quants are u - 32 with u in 0..63
        __m256i off = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc), load256(y[i].bsums));
        __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(off, 5));
        for (int h = 0; h < 2; h++) {
            __m256i qh = load256(x[i].qh + 32 * h);
            __m256i l0 = load256(x[i].ql + 64 * h), l1 = load256(x[i].ql + 64 * h + 32);
            __m256i u[4] = {
                _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m2)),
                _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m2)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(qh, m2)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_and_si256(_mm256_srli_epi16(qh, 2), m2)),
            };
            for (int k = 0; k < 4; k++)
                sumi = _mm256_add_epi32(sumi, scaled_dot(u[k], y[i].qs + 128 * h + 32 * k, scale_pair_i8(sc, 8 * h + 2 * k)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum_ps(acc);
}

ck_dot_fn ck_kq_dot_avx2_for(int type) {
    switch (type) {
    case CK_Q2_K: return dot_q2_K;
    case CK_Q3_K: return dot_q3_K;
    case CK_Q4_K: return dot_q4_K;
    case CK_Q5_K: return dot_q5_K;
    case CK_Q6_K: return dot_q6_K;
    default: return 0;
    }
}

// MARK: - Q8_K quantization

/// Rounds 8 floats to the nearest integer (ties to even, as nearbyintf does).
AVX2 static inline __m256i round8(__m256 v, __m256 scale) {
    return _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v, scale), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/// Sums of each of four int32 vectors -> {sum(a), sum(b), sum(c), sum(d)}.
AVX2 static inline __m128i hsum4_epi32(__m256i a, __m256i b, __m256i c, __m256i d) {
    __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

AVX2 void ck_quantize_q8_K_avx2(const float *x, ck_block_q8_K *y, int n) {
    const __m256 signbit = _mm256_set1_ps(-0.0f);
    for (int i = 0; i < n / CK_QK_K; i++, x += CK_QK_K) {
        __m256 m = _mm256_setzero_ps();
        for (int j = 0; j < CK_QK_K; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(signbit, _mm256_loadu_ps(x + j)));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        float amax = _mm_cvtss_f32(m4);
        float d = amax / 127.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        __m256 s = _mm256_set1_ps(id);
        __m256i sums[16]; // sums[k]: eight partial sums of quants 16k .. 16k+15
        for (int c = 0; c < 8; c++) {
            const float *xc = x + 32 * c;
            __m256i i0 = round8(_mm256_loadu_ps(xc), s), i1 = round8(_mm256_loadu_ps(xc + 8), s);
            __m256i i2 = round8(_mm256_loadu_ps(xc + 16), s), i3 = round8(_mm256_loadu_ps(xc + 24), s);
            sums[2 * c] = _mm256_add_epi32(i0, i1);
            sums[2 * c + 1] = _mm256_add_epi32(i2, i3);
            // pack 32 int32 -> 32 int8, then undo the lane interleaving of the packs
            __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
            p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256((__m256i *)(y[i].qs + 32 * c), p);
        }
        __m128i b0 = hsum4_epi32(sums[0], sums[1], sums[2], sums[3]);
        __m128i b1 = hsum4_epi32(sums[4], sums[5], sums[6], sums[7]);
        __m128i b2 = hsum4_epi32(sums[8], sums[9], sums[10], sums[11]);
        __m128i b3 = hsum4_epi32(sums[12], sums[13], sums[14], sums[15]);
        _mm_storeu_si128((__m128i *)y[i].bsums, _mm_packs_epi32(b0, b1));
        _mm_storeu_si128((__m128i *)(y[i].bsums + 8), _mm_packs_epi32(b2, b3));
        y[i].d = d;
    }
}

#else
ck_dot_fn ck_kq_dot_avx2_for(int type) { (void)type; return 0; }
void ck_quantize_q8_K_avx2(const float *x, ck_block_q8_K *y, int n) { ck_quantize_q8_K_scalar(x, y, n); }
#endif
