// Scalar reference paths: dequantization (bit-exact with gguf-py), activation quantization
// and dot products. The SIMD variants in quant_avx2.c / quant_avx512.c are tested against these.
#include "internal.h"
#include "kquants.h"
#include <math.h>

// gguf-py computes `d * q` and `d * q + m` as separate float32 roundings; a fused
// multiply-add would differ in the last bit.
#pragma clang fp contract(off)

int ck_type_supported(int type) {
    switch (type) {
    case CK_F32: case CK_F16: case CK_BF16: case CK_Q4_0: case CK_Q4_1:
    case CK_Q5_0: case CK_Q5_1: case CK_Q8_0:
    case CK_Q2_K: case CK_Q3_K: case CK_Q4_K: case CK_Q5_K: case CK_Q6_K:
        return 1;
    default:
        return 0;
    }
}

int ck_type_block_size(int type) {
    switch (type) {
    case CK_F32: case CK_F16: case CK_BF16: return 1;
    case CK_Q4_0: case CK_Q4_1: case CK_Q5_0: case CK_Q5_1: case CK_Q8_0: return 32;
    case CK_Q2_K: case CK_Q3_K: case CK_Q4_K: case CK_Q5_K: case CK_Q6_K: return CK_QK_K;
    default: return 0;
    }
}

int ck_type_block_bytes(int type) {
    switch (type) {
    case CK_F32: return 4;
    case CK_F16: case CK_BF16: return 2;
    case CK_Q4_0: return 18;
    case CK_Q4_1: return 20;
    case CK_Q5_0: return 22;
    case CK_Q5_1: return 24;
    case CK_Q8_0: return 34;
    case CK_Q2_K: return sizeof(ck_block_q2_K);
    case CK_Q3_K: return sizeof(ck_block_q3_K);
    case CK_Q4_K: return sizeof(ck_block_q4_K);
    case CK_Q5_K: return sizeof(ck_block_q5_K);
    case CK_Q6_K: return sizeof(ck_block_q6_K);
    default: return 0;
    }
}

void ck_dequantize(int type, const void *src, float *dst, int64_t n) {
    switch (type) {
    case CK_F32:
        memcpy(dst, src, (size_t)n * 4);
        break;
    case CK_F16: {
        const uint16_t *h = src;
        for (int64_t i = 0; i < n; i++) dst[i] = ck_fp16_to_fp32(h[i]);
        break;
    }
    case CK_BF16: {
        const uint16_t *h = src;
        for (int64_t i = 0; i < n; i++) dst[i] = ck_bf16_to_fp32(h[i]);
        break;
    }
    case CK_Q4_0: {
        const ck_block_q4_0 *b = src;
        for (int64_t i = 0; i < n / 32; i++, dst += 32) {
            float d = ck_fp16_to_fp32(b[i].d);
            for (int j = 0; j < 16; j++) {
                dst[j] = d * (float)((int)(b[i].qs[j] & 0x0f) - 8);
                dst[j + 16] = d * (float)((int)(b[i].qs[j] >> 4) - 8);
            }
        }
        break;
    }
    case CK_Q4_1: {
        const ck_block_q4_1 *b = src;
        for (int64_t i = 0; i < n / 32; i++, dst += 32) {
            float d = ck_fp16_to_fp32(b[i].d), m = ck_fp16_to_fp32(b[i].m);
            for (int j = 0; j < 16; j++) {
                dst[j] = d * (float)(b[i].qs[j] & 0x0f) + m;
                dst[j + 16] = d * (float)(b[i].qs[j] >> 4) + m;
            }
        }
        break;
    }
    case CK_Q5_0: {
        const ck_block_q5_0 *b = src;
        for (int64_t i = 0; i < n / 32; i++, dst += 32) {
            float d = ck_fp16_to_fp32(b[i].d);
            uint32_t qh = ck_load_u32(b[i].qh);
            for (int j = 0; j < 16; j++) {
                int lo = (b[i].qs[j] & 0x0f) | (int)(((qh >> j) & 1) << 4);
                int hi = (b[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
                dst[j] = d * (float)(lo - 16);
                dst[j + 16] = d * (float)(hi - 16);
            }
        }
        break;
    }
    case CK_Q5_1: {
        const ck_block_q5_1 *b = src;
        for (int64_t i = 0; i < n / 32; i++, dst += 32) {
            float d = ck_fp16_to_fp32(b[i].d), m = ck_fp16_to_fp32(b[i].m);
            uint32_t qh = ck_load_u32(b[i].qh);
            for (int j = 0; j < 16; j++) {
                int lo = (b[i].qs[j] & 0x0f) | (int)(((qh >> j) & 1) << 4);
                int hi = (b[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
                dst[j] = d * (float)lo + m;
                dst[j + 16] = d * (float)hi + m;
            }
        }
        break;
    }
    case CK_Q8_0: {
        const ck_block_q8_0 *b = src;
        for (int64_t i = 0; i < n / 32; i++, dst += 32) {
            float d = ck_fp16_to_fp32(b[i].d);
            for (int j = 0; j < 32; j++) dst[j] = d * (float)b[i].qs[j];
        }
        break;
    }
    case CK_Q2_K: case CK_Q3_K: case CK_Q4_K: case CK_Q5_K: case CK_Q6_K:
        ck_kq_dequantize(type, src, dst, n);
        break;
    default:
        break;
    }
}

// MARK: - Activation quantization

int ck_type_activation(int type) {
    switch (type) {
    case CK_F32: case CK_F16: case CK_BF16: return CK_ACT_F32;
    case CK_Q2_K: case CK_Q3_K: case CK_Q4_K: case CK_Q5_K: case CK_Q6_K: return CK_ACT_Q8K;
    default: return CK_ACT_Q8;
    }
}

size_t ck_activation_row_bytes(int type, int n) {
    switch (ck_type_activation(type)) {
    case CK_ACT_F32: return (size_t)n * 4;
    case CK_ACT_Q8K: return (size_t)(n / CK_QK_K) * sizeof(ck_block_q8_K);
    default: return (size_t)(n / 32) * sizeof(ck_block_q8);
    }
}

void ck_quantize_q8_scalar(const float *x, ck_block_q8 *y, int n) {
    for (int i = 0; i < n / 32; i++, x += 32) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            int q = (int)nearbyintf(x[j] * id);
            y[i].qs[j] = (int8_t)q;
            sum += q;
        }
        y[i].d = d;
        y[i].s = d * (float)sum;
    }
}

void ck_quantize_activation(int type, const float *x, void *dst, int n) {
    if (ck_type_activation(type) == CK_ACT_F32) {
        memcpy(dst, x, (size_t)n * 4);
        return;
    }
    if (ck_type_activation(type) == CK_ACT_Q8K) {
        ck_quantize_q8_K(x, dst, n);
        return;
    }
    if (ck_cpu_isa() >= CK_ISA_AVX2) ck_quantize_q8_avx2(x, dst, n);
    else ck_quantize_q8_scalar(x, dst, n);
}

// MARK: - Scalar dot products

static float dot_f32(int n, const void *w, const void *a) {
    const float *x = w, *y = a;
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)x[i] * y[i];
    return (float)s;
}

static float dot_f16(int n, const void *w, const void *a) {
    const uint16_t *x = w; const float *y = a;
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)ck_fp16_to_fp32(x[i]) * y[i];
    return (float)s;
}

static float dot_bf16(int n, const void *w, const void *a) {
    const uint16_t *x = w; const float *y = a;
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)ck_bf16_to_fp32(x[i]) * y[i];
    return (float)s;
}

static float dot_q4_0(int n, const void *w, const void *a) {
    const ck_block_q4_0 *x = w; const ck_block_q8 *y = a;
    float s = 0;
    for (int i = 0; i < n / 32; i++) {
        int acc = 0;
        for (int j = 0; j < 16; j++) {
            acc += (x[i].qs[j] & 0x0f) * y[i].qs[j] + (x[i].qs[j] >> 4) * y[i].qs[j + 16];
        }
        s += ck_fp16_to_fp32(x[i].d) * (y[i].d * (float)acc - 8.0f * y[i].s);
    }
    return s;
}

static float dot_q4_1(int n, const void *w, const void *a) {
    const ck_block_q4_1 *x = w; const ck_block_q8 *y = a;
    float s = 0;
    for (int i = 0; i < n / 32; i++) {
        int acc = 0;
        for (int j = 0; j < 16; j++) {
            acc += (x[i].qs[j] & 0x0f) * y[i].qs[j] + (x[i].qs[j] >> 4) * y[i].qs[j + 16];
        }
        s += ck_fp16_to_fp32(x[i].d) * y[i].d * (float)acc + ck_fp16_to_fp32(x[i].m) * y[i].s;
    }
    return s;
}

static int q5_acc(const uint8_t *qs, const uint8_t *qhp, const int8_t *a) {
    uint32_t qh = ck_load_u32(qhp);
    int acc = 0;
    for (int j = 0; j < 16; j++) {
        int lo = (qs[j] & 0x0f) | (int)(((qh >> j) & 1) << 4);
        int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
        acc += lo * a[j] + hi * a[j + 16];
    }
    return acc;
}

static float dot_q5_0(int n, const void *w, const void *a) {
    const ck_block_q5_0 *x = w; const ck_block_q8 *y = a;
    float s = 0;
    for (int i = 0; i < n / 32; i++) {
        int acc = q5_acc(x[i].qs, x[i].qh, y[i].qs);
        s += ck_fp16_to_fp32(x[i].d) * (y[i].d * (float)acc - 16.0f * y[i].s);
    }
    return s;
}

static float dot_q5_1(int n, const void *w, const void *a) {
    const ck_block_q5_1 *x = w; const ck_block_q8 *y = a;
    float s = 0;
    for (int i = 0; i < n / 32; i++) {
        int acc = q5_acc(x[i].qs, x[i].qh, y[i].qs);
        s += ck_fp16_to_fp32(x[i].d) * y[i].d * (float)acc + ck_fp16_to_fp32(x[i].m) * y[i].s;
    }
    return s;
}

static float dot_q8_0(int n, const void *w, const void *a) {
    const ck_block_q8_0 *x = w; const ck_block_q8 *y = a;
    float s = 0;
    for (int i = 0; i < n / 32; i++) {
        int acc = 0;
        for (int j = 0; j < 32; j++) acc += x[i].qs[j] * y[i].qs[j];
        s += ck_fp16_to_fp32(x[i].d) * y[i].d * (float)acc;
    }
    return s;
}

ck_dot_fn ck_dot_scalar_for(int type) {
    switch (type) {
    case CK_F32: return dot_f32;
    case CK_F16: return dot_f16;
    case CK_BF16: return dot_bf16;
    case CK_Q4_0: return dot_q4_0;
    case CK_Q4_1: return dot_q4_1;
    case CK_Q5_0: return dot_q5_0;
    case CK_Q5_1: return dot_q5_1;
    case CK_Q8_0: return dot_q8_0;
    default: return ck_kq_dot_scalar_for(type);
    }
}

static ck_dot_fn dot_for(int type) {
    ck_dot_fn fn = 0;
    int isa = ck_cpu_isa();
    if (isa >= CK_ISA_AVX512) fn = ck_dot_avx512_for(type);
    if (!fn && isa >= CK_ISA_AVX2) fn = ck_dot_avx2_for(type);
    if (!fn) fn = ck_dot_scalar_for(type);
    return fn;
}

float ck_vec_dot(int type, int n, const void *w, const void *a) {
    ck_dot_fn fn = dot_for(type);
    return fn ? fn(n, w, a) : 0;
}

float ck_vec_dot_scalar(int type, int n, const void *w, const void *a) {
    ck_dot_fn fn = ck_dot_scalar_for(type);
    return fn ? fn(n, w, a) : 0;
}

void ck_matmul_rows(int type, int n, const void *w, size_t w_row_bytes,
                    const void *a, size_t a_row_bytes, int T,
                    float *y, int ldy, int row_begin, int row_end) {
    ck_dot_fn fn = dot_for(type);
    if (!fn) return;
    ck_dot4_fn fn4 = ck_cpu_isa() >= CK_ISA_AVX512 ? ck_dot4_avx512_for(type) : 0;
    ck_gemm4x4_fn gemm = ck_cpu_isa() >= CK_ISA_AVX512 ? ck_gemm4x4_avx512_for(type) : 0;
    const uint8_t *wb = w;
    const uint8_t *ab = a;
    int r = row_begin;
    if (fn4) {
        float o[4];
        for (; r + 4 <= row_end; r += 4) {
            const void *wr = wb + (size_t)r * w_row_bytes;
            int t = 0;
            if (gemm)
                for (; t + 4 <= T; t += 4)
                    gemm(n, wr, w_row_bytes, ab + (size_t)t * a_row_bytes, a_row_bytes, y + (size_t)t * ldy + r, ldy);
            for (; t < T; t++) {
                fn4(n, wr, w_row_bytes, ab + (size_t)t * a_row_bytes, o);
                float *yt = y + (size_t)t * ldy + r;
                yt[0] = o[0]; yt[1] = o[1]; yt[2] = o[2]; yt[3] = o[3];
            }
        }
    }
    for (; r < row_end; r++) {
        const void *wr = wb + (size_t)r * w_row_bytes;
        for (int t = 0; t < T; t++) {
            y[(size_t)t * ldy + r] = fn(n, wr, ab + (size_t)t * a_row_bytes);
        }
    }
}
