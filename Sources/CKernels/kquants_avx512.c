// K-quants with AVX-512 VNNI (256-bit forms, as in quant_avx512.c): Q4_K, Q5_K and Q6_K, the
// formats Q4_K_M / Q5_K_M models are made of. Q2_K and Q3_K use the AVX2 kernels.
//
// Each kernel is one tile body specialised for 1 row x 1 token (dot), 4 rows x 1 token (dot4)
// and 4 rows x 4 tokens (gemm4x4, prefill): a weight block is unpacked and its scales built
// once per tile, and each activation block is loaded once per row. With several tokens,
// `maddubs` + `vpdpwssd` (sub-block scales as int16) cost two instructions per 32 elements
// and token; with one token, `vpdpbusd` + a pack to int16 + one `vpdpwssd` per two such
// groups cost less and keep port 5 (shuffles) from becoming the limit.
#include "kquants.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
#define TILE AVX512 __attribute__((always_inline)) static inline

AVX512 static inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// {sum(v0), sum(v1), sum(v2), sum(v3)}.
/// Four horizontal sums rounded exactly like four hsum_ps calls, so a token's result is the
/// same whether the 4x4 GEMM or the 4-row dot computed it (batch invariance).
AVX512 static inline __m128 hsum4(__m256 v0, __m256 v1, __m256 v2, __m256 v3) {
    return _mm_setr_ps(hsum_ps(v0), hsum_ps(v1), hsum_ps(v2), hsum_ps(v3));
}

AVX512 static inline __m256i load256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

/// Writes the tile's sums: out[t * ldy + r].
TILE void store_tile(__m256 acc[4][4], int nr, int nt, float *out, int ldy) {
    for (int t = 0; t < nt; t++) {
        if (nr == 4) {
            _mm_storeu_ps(out + (size_t)t * ldy, hsum4(acc[0][t], acc[1][t], acc[2][t], acc[3][t]));
        } else {
            for (int r = 0; r < nr; r++) out[(size_t)t * ldy + r] = hsum_ps(acc[r][t]);
        }
    }
}

/// vpshufb mask that builds int16 values from bytes of each 128-bit lane: byte a four times,
/// then byte b four times in the low lane; c, then d, in the high lane. Zero-extending puts a
/// zero byte above each; otherwise the byte is doubled for a following arithmetic shift by 8
/// (sign extension).
AVX512 static inline __m256i pick16(int a, int b, int c, int d, int zero_extend) {
#define P(i) (short)(zero_extend ? (0x8000 | (i)) : (((i) << 8) | (i)))
    return _mm256_setr_epi16(P(a), P(a), P(a), P(a), P(b), P(b), P(b), P(b),
                             P(c), P(c), P(c), P(c), P(d), P(d), P(d), P(d));
#undef P
}

// After _mm256_packs_epi32(u, v) of two vpdpbusd results (sums of four products), the low
// lane holds the four sums of u's bytes 0-15 then the four of v's bytes 0-15; the high lane
// the same for bytes 16-31. With one token this replaces maddubs + vpdpwssd per 32 bytes by
// vpdpbusd + half a pack + half a vpdpwssd.

// MARK: - Q4_K and Q5_K

/// The packed 6-bit scales and mins of a Q4_K/Q5_K block (see ck_k4_scales_mins) as bytes
/// sc[0..7], m[0..7], in both 128-bit lanes. Reads 16 bytes: the last 4 are the quants that
/// follow the scales in the block.
AVX512 static inline __m256i k4_scales_mins(const uint8_t *packed) {
    __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)packed));
    // low bits: bytes 0-3 & 63 | bytes 8-11 & 15 | bytes 4-7 & 63 | bytes 8-11 >> 4
    __m256i a = _mm256_shuffle_epi8(v, _mm256_broadcastsi128_si256(
        _mm_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11)));
    __m256i low = _mm256_blend_epi32(a, _mm256_srli_epi16(a, 4), 0x88);
    low = _mm256_and_si256(low, _mm256_broadcastsi128_si256(
        _mm_setr_epi8(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15)));
    // top 2 bits of sc[4..7] and m[4..7]: the top bits of bytes 0-3 and 4-7
    __m256i b = _mm256_shuffle_epi8(v, _mm256_broadcastsi128_si256(
        _mm_setr_epi8(-1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, 4, 5, 6, 7)));
    __m256i high = _mm256_and_si256(_mm256_srli_epi16(b, 2), _mm256_set1_epi8(0x30));
    return _mm256_or_si256(low, high);
}

/// `nr` rows (`row_bytes` apart) of Q4_K (q5 = 0) or Q5_K (q5 = 1) against `nt` Q8_K rows.
/// Per block and row: sum_t += d * dy_t * sumi - dmin * dy_t * sum_j m[j] * (bsum[2j] + bsum[2j+1]).
TILE void tile_k4(int n, const uint8_t *w, size_t row_bytes, const uint8_t *a, size_t a_row_bytes,
                  float *out, int ldy, const int nr, const int nt, const int q5) {
    const size_t block_bytes = q5 ? sizeof(ck_block_q5_K) : sizeof(ck_block_q4_K);
    const size_t qs_offset = q5 ? offsetof(ck_block_q5_K, qs) : offsetof(ck_block_q4_K, qs);
    const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
    // each min twice, to meet the pair of 16-element activation sums it multiplies
    const __m256i min_mask = _mm256_setr_epi16(
        (short)0x8008, (short)0x8008, (short)0x8009, (short)0x8009, (short)0x800a, (short)0x800a, (short)0x800b, (short)0x800b,
        (short)0x800c, (short)0x800c, (short)0x800d, (short)0x800d, (short)0x800e, (short)0x800e, (short)0x800f, (short)0x800f);
    __m256 acc[4][4];
    for (int r = 0; r < 4; r++) for (int t = 0; t < 4; t++) acc[r][t] = _mm256_setzero_ps();
    for (int i = 0; i < n / CK_QK_K; i++) {
        const ck_block_q8_K *y[4];
        for (int t = 0; t < nt; t++) y[t] = (const ck_block_q8_K *)(a + (size_t)t * a_row_bytes) + i;
        for (int r = 0; r < nr; r++) {
            const uint8_t *xb = w + (size_t)r * row_bytes + (size_t)i * block_bytes;
            // d, dmin and the scales sit at the same offsets in Q4_K and Q5_K
            __m256i scm = k4_scales_mins(((const ck_block_q4_K *)xb)->scales);
            __m256i mins = _mm256_shuffle_epi8(scm, min_mask);
            __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128((int)ck_load_u32(xb))); // d, dmin
            const uint8_t *qs = xb + qs_offset;
            __m256i qh = q5 ? load256(((const ck_block_q5_K *)xb)->qh) : _mm256_setzero_si256();
            __m256i sumi[4], sumh = _mm256_setzero_si256();
            for (int t = 0; t < nt; t++) sumi[t] = _mm256_setzero_si256();
            for (int g = 0; g < 4; g++) {
                __m256i q = load256(qs + 32 * g);
                __m256i lo = _mm256_and_si256(q, m4);
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                if (q5) {
                    lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), one), 4));
                    hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * g + 1), one), 4));
                }
                if (nt == 1) {
                    // sums of four products are at most 4 * 31 * 127: the pack is exact
                    __m256i vlo = _mm256_dpbusd_epi32(_mm256_setzero_si256(), lo, load256(y[0]->qs + 64 * g));
                    __m256i vhi = _mm256_dpbusd_epi32(_mm256_setzero_si256(), hi, load256(y[0]->qs + 64 * g + 32));
                    __m256i s = _mm256_shuffle_epi8(scm, pick16(2 * g, 2 * g + 1, 2 * g, 2 * g + 1, 1));
                    // two chains: vpdpwssd has a five-cycle latency
                    if (g & 1) sumh = _mm256_dpwssd_epi32(sumh, _mm256_packs_epi32(vlo, vhi), s);
                    else sumi[0] = _mm256_dpwssd_epi32(sumi[0], _mm256_packs_epi32(vlo, vhi), s);
                } else {
                    // several tokens: each scale vector is built once and shared
                    __m256i s_lo = _mm256_shuffle_epi8(scm, pick16(2 * g, 2 * g, 2 * g, 2 * g, 1));
                    __m256i s_hi = _mm256_shuffle_epi8(scm, pick16(2 * g + 1, 2 * g + 1, 2 * g + 1, 2 * g + 1, 1));
                    for (int t = 0; t < nt; t++) {
                        sumi[t] = _mm256_dpwssd_epi32(sumi[t], _mm256_maddubs_epi16(lo, load256(y[t]->qs + 64 * g)), s_lo);
                        sumi[t] = _mm256_dpwssd_epi32(sumi[t], _mm256_maddubs_epi16(hi, load256(y[t]->qs + 64 * g + 32)), s_hi);
                    }
                }
            }
            if (nt == 1) sumi[0] = _mm256_add_epi32(sumi[0], sumh);
            for (int t = 0; t < nt; t++) {
                __m128 f = _mm_mul_ps(dm, _mm_set1_ps(y[t]->d)); // d * dy, dmin * dy
                __m256 summ = _mm256_cvtepi32_ps(_mm256_madd_epi16(mins, load256(y[t]->bsums)));
                acc[r][t] = _mm256_fmadd_ps(_mm256_broadcastss_ps(f), _mm256_cvtepi32_ps(sumi[t]), acc[r][t]);
                acc[r][t] = _mm256_fnmadd_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(f)), summ, acc[r][t]);
            }
        }
    }
    store_tile(acc, nr, nt, out, ldy);
}

// MARK: - Q6_K

/// `nr` Q6_K rows against `nt` Q8_K rows. Quants are u - 32 with u in 0..63; the -32 enters
/// through the activation block sums: sumi = sum_j sc[j] * (dot(u, y)_j - 32 * bsum[j]).
TILE void tile_q6_K(int n, const uint8_t *w, size_t row_bytes, const uint8_t *a, size_t a_row_bytes,
                    float *out, int ldy, const int nr, const int nt) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(0x30);
    __m256 acc[4][4];
    for (int r = 0; r < 4; r++) for (int t = 0; t < 4; t++) acc[r][t] = _mm256_setzero_ps();
    for (int i = 0; i < n / CK_QK_K; i++) {
        const ck_block_q8_K *y[4];
        for (int t = 0; t < nt; t++) y[t] = (const ck_block_q8_K *)(a + (size_t)t * a_row_bytes) + i;
        for (int r = 0; r < nr; r++) {
            const ck_block_q6_K *x = (const ck_block_q6_K *)(w + (size_t)r * row_bytes) + i;
            __m128i sc = _mm_loadu_si128((const __m128i *)x->scales);
            __m256i sc2 = _mm256_broadcastsi128_si256(sc); // the 16 int8 scales in both lanes
            __m256i neg32sc = _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(_mm256_cvtepi8_epi16(sc), 5));
            __m256i sumi[4], sumh = _mm256_setzero_si256();
            for (int t = 0; t < nt; t++) sumi[t] = _mm256_madd_epi16(neg32sc, load256(y[t]->bsums));
            for (int h = 0; h < 2; h++) {
                __m256i qh = load256(x->qh + 32 * h);
                __m256i l0 = load256(x->ql + 64 * h), l1 = load256(x->ql + 64 * h + 32);
                __m256i u[4] = {
                    _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m2)),
                    _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m2)),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(qh, m2)),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_and_si256(_mm256_srli_epi16(qh, 2), m2)),
                };
                if (nt == 1) {
                    // sums of four products are at most 4 * 63 * 127: the pack is exact
                    const int8_t *yq = y[0]->qs + 128 * h;
                    for (int k = 0; k < 4; k += 2) {
                        __m256i va = _mm256_dpbusd_epi32(_mm256_setzero_si256(), u[k], load256(yq + 32 * k));
                        __m256i vb = _mm256_dpbusd_epi32(_mm256_setzero_si256(), u[k + 1], load256(yq + 32 * k + 32));
                        int j = 8 * h + 2 * k; // scale of va's first 16 elements
                        __m256i s = _mm256_srai_epi16(_mm256_shuffle_epi8(sc2, pick16(j, j + 2, j + 1, j + 3, 0)), 8);
                        if (h) sumh = _mm256_dpwssd_epi32(sumh, _mm256_packs_epi32(va, vb), s);
                        else sumi[0] = _mm256_dpwssd_epi32(sumi[0], _mm256_packs_epi32(va, vb), s);
                    }
                } else {
                    for (int k = 0; k < 4; k++) {
                        int j = 8 * h + 2 * k; // scales of u[k]'s two 16-element halves: j, j + 1
                        __m256i s = _mm256_srai_epi16(_mm256_shuffle_epi8(sc2, pick16(j, j, j + 1, j + 1, 0)), 8);
                        for (int t = 0; t < nt; t++)
                            sumi[t] = _mm256_dpwssd_epi32(sumi[t], _mm256_maddubs_epi16(u[k], load256(y[t]->qs + 128 * h + 32 * k)), s);
                    }
                }
            }
            if (nt == 1) sumi[0] = _mm256_add_epi32(sumi[0], sumh);
            float d = _cvtsh_ss(x->d);
            for (int t = 0; t < nt; t++)
                acc[r][t] = _mm256_fmadd_ps(_mm256_set1_ps(d * y[t]->d), _mm256_cvtepi32_ps(sumi[t]), acc[r][t]);
        }
    }
    store_tile(acc, nr, nt, out, ldy);
}

// MARK: - Entry points

AVX512 static float dot_q4_K(int n, const void *w, const void *a) {
    float o; tile_k4(n, w, 0, a, 0, &o, 1, 1, 1, 0); return o;
}
AVX512 static float dot_q5_K(int n, const void *w, const void *a) {
    float o; tile_k4(n, w, 0, a, 0, &o, 1, 1, 1, 1); return o;
}
AVX512 static float dot_q6_K(int n, const void *w, const void *a) {
    float o; tile_q6_K(n, w, 0, a, 0, &o, 1, 1, 1); return o;
}

AVX512 static void dot4_q4_K(int n, const void *w, size_t row_bytes, const void *a, float *out) {
    tile_k4(n, w, row_bytes, a, 0, out, 1, 4, 1, 0);
}
AVX512 static void dot4_q5_K(int n, const void *w, size_t row_bytes, const void *a, float *out) {
    tile_k4(n, w, row_bytes, a, 0, out, 1, 4, 1, 1);
}
AVX512 static void dot4_q6_K(int n, const void *w, size_t row_bytes, const void *a, float *out) {
    tile_q6_K(n, w, row_bytes, a, 0, out, 1, 4, 1);
}

AVX512 static void gemm4x4_q4_K(int n, const void *w, size_t row_bytes, const void *a, size_t a_row_bytes,
                                float *y, int ldy) {
    tile_k4(n, w, row_bytes, a, a_row_bytes, y, ldy, 4, 4, 0);
}
AVX512 static void gemm4x4_q5_K(int n, const void *w, size_t row_bytes, const void *a, size_t a_row_bytes,
                                float *y, int ldy) {
    tile_k4(n, w, row_bytes, a, a_row_bytes, y, ldy, 4, 4, 1);
}
AVX512 static void gemm4x4_q6_K(int n, const void *w, size_t row_bytes, const void *a, size_t a_row_bytes,
                                float *y, int ldy) {
    tile_q6_K(n, w, row_bytes, a, a_row_bytes, y, ldy, 4, 4);
}

ck_dot_fn ck_kq_dot_avx512_for(int type) {
    switch (type) {
    case CK_Q4_K: return dot_q4_K;
    case CK_Q5_K: return dot_q5_K;
    case CK_Q6_K: return dot_q6_K;
    default: return 0;
    }
}

ck_dot4_fn ck_kq_dot4_avx512_for(int type) {
    switch (type) {
    case CK_Q4_K: return dot4_q4_K;
    case CK_Q5_K: return dot4_q5_K;
    case CK_Q6_K: return dot4_q6_K;
    default: return 0;
    }
}

ck_gemm4x4_fn ck_kq_gemm4x4_avx512_for(int type) {
    switch (type) {
    case CK_Q4_K: return gemm4x4_q4_K;
    case CK_Q5_K: return gemm4x4_q5_K;
    case CK_Q6_K: return gemm4x4_q6_K;
    default: return 0;
    }
}

#else
ck_dot_fn ck_kq_dot_avx512_for(int type) { (void)type; return 0; }
ck_dot4_fn ck_kq_dot4_avx512_for(int type) { (void)type; return 0; }
ck_gemm4x4_fn ck_kq_gemm4x4_avx512_for(int type) { (void)type; return 0; }
#endif
