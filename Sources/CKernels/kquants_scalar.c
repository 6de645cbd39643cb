// K-quants, scalar reference paths: dequantization bit-exact with gguf-py, Q8_K activation
// quantization, and dot products the SIMD kernels (kquants_avx2.c, kquants_avx512.c) are
// tested against.
//
// Element order inside a super-block (what the SIMD kernels must reproduce):
//   Q2_K: element 128h + 32j + l = bits 2j..2j+1 of qs[32h + l]         (h < 2, j < 4, l < 32)
//   Q3_K: low bits as Q2_K; high bit = bit 4h + j of hmask[l]
//   Q4_K: element 64g + l = low nibble of qs[32g + l], 64g + 32 + l = high nibble (g < 4)
//   Q5_K: low bits as Q4_K; fifth bit = bit 2g (low nibbles) / 2g + 1 (high) of qh[l]
//   Q6_K: element 128h + 32k + l: low 4 bits from ql[64h + l + 32 (k & 1)], nibble k >> 1;
//         high 2 bits = bits 2k..2k+1 of qh[32h + l]                    (k < 4)
#include "kquants.h"
#include <math.h>

// gguf-py rounds `d * sc`, `* q` and `- dm` separately in float32; a fused multiply-add
// would differ in the last bit.
#pragma clang fp contract(off)

// MARK: - Dequantization

static void dequantize_q2_K(const ck_block_q2_K *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += CK_QK_K) {
        float d = ck_fp16_to_fp32(b[i].d), dmin = ck_fp16_to_fp32(b[i].dmin);
        for (int e = 0; e < CK_QK_K; e++) {
            int h = e >> 7, j = (e >> 5) & 3, l = e & 31;
            int q = (b[i].qs[32 * h + l] >> (2 * j)) & 3;
            uint8_t s = b[i].scales[e >> 4];
            float dl = d * (float)(s & 0x0f), ml = dmin * (float)(s >> 4);
            y[e] = dl * (float)q - ml;
        }
    }
}

static void dequantize_q3_K(const ck_block_q3_K *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += CK_QK_K) {
        float d = ck_fp16_to_fp32(b[i].d);
        int8_t sc[16];
        ck_q3_K_scales(b[i].scales, sc);
        for (int e = 0; e < CK_QK_K; e++) {
            int h = e >> 7, j = (e >> 5) & 3, l = e & 31;
            int lo = (b[i].qs[32 * h + l] >> (2 * j)) & 3;
            int hi = (b[i].hmask[l] >> (4 * h + j)) & 1;
            float dl = d * (float)sc[e >> 4];
            y[e] = dl * (float)(lo - (hi ? 0 : 4));
        }
    }
}

static void dequantize_q4_K(const ck_block_q4_K *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += CK_QK_K) {
        float d = ck_fp16_to_fp32(b[i].d), dmin = ck_fp16_to_fp32(b[i].dmin);
        uint8_t sc[8], m[8];
        ck_k4_scales_mins(b[i].scales, sc, m);
        for (int e = 0; e < CK_QK_K; e++) {
            int g = e >> 6, l = e & 31, hi = (e >> 5) & 1;
            int q = (b[i].qs[32 * g + l] >> (4 * hi)) & 0x0f;
            float dl = d * (float)sc[e >> 5], ml = dmin * (float)m[e >> 5];
            y[e] = dl * (float)q - ml;
        }
    }
}

static void dequantize_q5_K(const ck_block_q5_K *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += CK_QK_K) {
        float d = ck_fp16_to_fp32(b[i].d), dmin = ck_fp16_to_fp32(b[i].dmin);
        uint8_t sc[8], m[8];
        ck_k4_scales_mins(b[i].scales, sc, m);
        for (int e = 0; e < CK_QK_K; e++) {
            int g = e >> 6, l = e & 31, hi = (e >> 5) & 1;
            int q = ((b[i].qs[32 * g + l] >> (4 * hi)) & 0x0f) | (((b[i].qh[l] >> (e >> 5)) & 1) << 4);
            float dl = d * (float)sc[e >> 5], ml = dmin * (float)m[e >> 5];
            y[e] = dl * (float)q - ml;
        }
    }
}

static void dequantize_q6_K(const ck_block_q6_K *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += CK_QK_K) {
        float d = ck_fp16_to_fp32(b[i].d);
        for (int e = 0; e < CK_QK_K; e++) {
            int h = e >> 7, k = (e >> 5) & 3, l = e & 31;
            int lo = (b[i].ql[64 * h + l + 32 * (k & 1)] >> (4 * (k >> 1))) & 0x0f;
            int hi = (b[i].qh[32 * h + l] >> (2 * k)) & 3;
            float dl = d * (float)b[i].scales[e >> 4];
            y[e] = dl * (float)((lo | (hi << 4)) - 32);
        }
    }
}

void ck_kq_dequantize(int type, const void *src, float *dst, int64_t n) {
    int64_t nb = n / CK_QK_K;
    switch (type) {
    case CK_Q2_K: dequantize_q2_K(src, dst, nb); break;
    case CK_Q3_K: dequantize_q3_K(src, dst, nb); break;
    case CK_Q4_K: dequantize_q4_K(src, dst, nb); break;
    case CK_Q5_K: dequantize_q5_K(src, dst, nb); break;
    case CK_Q6_K: dequantize_q6_K(src, dst, nb); break;
    default: break;
    }
}

// MARK: - Q8_K activations

// Same rounding as ck_block_q8 (d = amax / 127, q = nearbyint(x / d)), over 256 elements,
// plus the sums of each 16 quants that fold the formats' offsets and mins in cheaply.
void ck_quantize_q8_K_scalar(const float *x, ck_block_q8_K *y, int n) {
    for (int i = 0; i < n / CK_QK_K; i++, x += CK_QK_K) {
        float amax = 0;
        for (int j = 0; j < CK_QK_K; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        for (int j = 0; j < CK_QK_K; j++) y[i].qs[j] = (int8_t)(int)nearbyintf(x[j] * id);
        for (int j = 0; j < 16; j++) {
            int s = 0;
            for (int l = 0; l < 16; l++) s += y[i].qs[16 * j + l];
            y[i].bsums[j] = (int16_t)s;
        }
        y[i].d = d;
    }
}

void ck_quantize_q8_K(const float *x, ck_block_q8_K *y, int n) {
    if (ck_cpu_isa() >= CK_ISA_AVX2) ck_quantize_q8_K_avx2(x, y, n);
    else ck_quantize_q8_K_scalar(x, y, n);
}

// MARK: - Scalar dot products
//
// Each super-block's integer sums are exact; the float work per block is
// d_w * d_a * sumi (- dmin_w * d_a * summ for formats with mins). The SIMD kernels compute the
// same integers, so they differ from these only by float summation order.

static float dot_q2_K(int n, const void *w, const void *a) {
    const ck_block_q2_K *x = w; const ck_block_q8_K *y = a;
    float s = 0;
    for (int i = 0; i < n / CK_QK_K; i++) {
        int sumi = 0, summ = 0;
        for (int e = 0; e < CK_QK_K; e += 16) {
            int h = e >> 7, j = (e >> 5) & 3, l0 = e & 31, acc = 0;
            for (int l = l0; l < l0 + 16; l++) acc += ((x[i].qs[32 * h + l] >> (2 * j)) & 3) * y[i].qs[e + l - l0];
            sumi += (x[i].scales[e >> 4] & 0x0f) * acc;
            summ += (x[i].scales[e >> 4] >> 4) * y[i].bsums[e >> 4];
        }
        s += ck_fp16_to_fp32(x[i].d) * y[i].d * (float)sumi - ck_fp16_to_fp32(x[i].dmin) * y[i].d * (float)summ;
    }
    return s;
}

static float dot_q3_K(int n, const void *w, const void *a) {
    const ck_block_q3_K *x = w; const ck_block_q8_K *y = a;
    float s = 0;
    for (int i = 0; i < n / CK_QK_K; i++) {
        int8_t sc[16];
        ck_q3_K_scales(x[i].scales, sc);
        int sumi = 0;
        for (int e = 0; e < CK_QK_K; e += 16) {
            int h = e >> 7, j = (e >> 5) & 3, l0 = e & 31, acc = 0;
            for (int l = l0; l < l0 + 16; l++) {
                int lo = (x[i].qs[32 * h + l] >> (2 * j)) & 3;
                int hi = (x[i].hmask[l] >> (4 * h + j)) & 1;
                acc += (lo - (hi ? 0 : 4)) * y[i].qs[e + l - l0];
            }
            sumi += sc[e >> 4] * acc;
        }
        s += ck_fp16_to_fp32(x[i].d) * y[i].d * (float)sumi;
    }
    return s;
}

static float dot_q4_K(int n, const void *w, const void *a) {
    const ck_block_q4_K *x = w; const ck_block_q8_K *y = a;
    float s = 0;
    for (int i = 0; i < n / CK_QK_K; i++) {
        uint8_t sc[8], m[8];
        ck_k4_scales_mins(x[i].scales, sc, m);
        int sumi = 0, summ = 0;
        for (int j = 0; j < 8; j++) {
            const uint8_t *q = x[i].qs + 32 * (j >> 1);
            int shift = 4 * (j & 1), acc = 0;
            for (int l = 0; l < 32; l++) acc += ((q[l] >> shift) & 0x0f) * y[i].qs[32 * j + l];
            sumi += sc[j] * acc;
            summ += m[j] * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
        }
        s += ck_fp16_to_fp32(x[i].d) * y[i].d * (float)sumi - ck_fp16_to_fp32(x[i].dmin) * y[i].d * (float)summ;
    }
    return s;
}

static float dot_q5_K(int n, const void *w, const void *a) {
    const ck_block_q5_K *x = w; const ck_block_q8_K *y = a;
    float s = 0;
    for (int i = 0; i < n / CK_QK_K; i++) {
        uint8_t sc[8], m[8];
        ck_k4_scales_mins(x[i].scales, sc, m);
        int sumi = 0, summ = 0;
        for (int j = 0; j < 8; j++) {
            const uint8_t *q = x[i].qs + 32 * (j >> 1);
            int shift = 4 * (j & 1), acc = 0;
            for (int l = 0; l < 32; l++) {
                int v = ((q[l] >> shift) & 0x0f) | (((x[i].qh[l] >> j) & 1) << 4);
                acc += v * y[i].qs[32 * j + l];
            }
            sumi += sc[j] * acc;
            summ += m[j] * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
        }
        s += ck_fp16_to_fp32(x[i].d) * y[i].d * (float)sumi - ck_fp16_to_fp32(x[i].dmin) * y[i].d * (float)summ;
    }
    return s;
}

static float dot_q6_K(int n, const void *w, const void *a) {
    const ck_block_q6_K *x = w; const ck_block_q8_K *y = a;
    float s = 0;
    for (int i = 0; i < n / CK_QK_K; i++) {
        int sumi = 0;
        for (int e = 0; e < CK_QK_K; e += 16) {
            int h = e >> 7, k = (e >> 5) & 3, l0 = e & 31, acc = 0;
            for (int l = l0; l < l0 + 16; l++) {
                int lo = (x[i].ql[64 * h + l + 32 * (k & 1)] >> (4 * (k >> 1))) & 0x0f;
                int hi = (x[i].qh[32 * h + l] >> (2 * k)) & 3;
                acc += ((lo | (hi << 4)) - 32) * y[i].qs[e + l - l0];
            }
            sumi += x[i].scales[e >> 4] * acc;
        }
        s += ck_fp16_to_fp32(x[i].d) * y[i].d * (float)sumi;
    }
    return s;
}

ck_dot_fn ck_kq_dot_scalar_for(int type) {
    switch (type) {
    case CK_Q2_K: return dot_q2_K;
    case CK_Q3_K: return dot_q3_K;
    case CK_Q4_K: return dot_q4_K;
    case CK_Q5_K: return dot_q5_K;
    case CK_Q6_K: return dot_q6_K;
    default: return 0;
    }
}
