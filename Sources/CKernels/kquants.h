// Private declarations for the K-quant formats (Q2_K .. Q6_K): ggml's 256-element super-blocks.
//
// Layouts follow ggml-common.h byte for byte (gguf-py's quants.py splits blocks the same way).
// Every K-quant weight row multiplies against ck_block_q8_K activations (ckernels.h).
#ifndef CKERNELS_KQUANTS_H
#define CKERNELS_KQUANTS_H
#include "internal.h"

#define CK_QK_K 256
#define CK_K_SCALE_SIZE 12

/// w = d * (scales[j] & 15) * q - dmin * (scales[j] >> 4), q in 0..3, sixteen sub-blocks of 16.
typedef struct {
    uint8_t scales[16]; // low nibble: scale, high nibble: min, per 16 elements
    uint8_t qs[64];     // 2-bit quants, four to a byte
    uint16_t d;         // fp16 super-block scale for the scales
    uint16_t dmin;      // fp16 super-block scale for the mins
} ck_block_q2_K;

/// w = d * (scale6[j] - 32) * q, q in -4..3, sixteen sub-blocks of 16.
typedef struct {
    uint8_t hmask[32];  // high bit of each quant (set = no -4 offset)
    uint8_t qs[64];     // low 2 bits of each quant
    uint8_t scales[12]; // sixteen 6-bit scales, packed
    uint16_t d;         // fp16 super-block scale
} ck_block_q3_K;

/// w = d * sc[j] * q - dmin * m[j], q in 0..15, eight sub-blocks of 32.
typedef struct {
    uint16_t d;                      // fp16 super-block scale for the scales
    uint16_t dmin;                   // fp16 super-block scale for the mins
    uint8_t scales[CK_K_SCALE_SIZE]; // eight 6-bit scales and eight 6-bit mins, packed
    uint8_t qs[128];                 // 4-bit quants
} ck_block_q4_K;

/// As Q4_K with a fifth quant bit: q in 0..31.
typedef struct {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[CK_K_SCALE_SIZE];
    uint8_t qh[32];  // fifth bit of each quant
    uint8_t qs[128]; // low 4 bits of each quant
} ck_block_q5_K;

/// w = d * scales[j] * (q - 32), q in 0..63, sixteen sub-blocks of 16.
typedef struct {
    uint8_t ql[128];   // low 4 bits of each quant
    uint8_t qh[64];    // high 2 bits of each quant
    int8_t scales[16]; // 8-bit signed scales
    uint16_t d;        // fp16 super-block scale
} ck_block_q6_K;

_Static_assert(sizeof(ck_block_q2_K) == 84, "q2_K block");
_Static_assert(sizeof(ck_block_q3_K) == 110, "q3_K block");
_Static_assert(sizeof(ck_block_q4_K) == 144, "q4_K block");
_Static_assert(sizeof(ck_block_q5_K) == 176, "q5_K block");
_Static_assert(sizeof(ck_block_q6_K) == 210, "q6_K block");
_Static_assert(sizeof(ck_block_q8_K) == 292, "q8_K activation block");

/// The eight 6-bit scales (sc[0..7]) and mins (m[0..7]) of a Q4_K / Q5_K block, as bytes.
/// Packing: bytes 0-3 hold sc[0..3] in their low 6 bits, bytes 4-7 m[0..3]; bytes 8-11 hold the
/// low 4 bits of sc[4..7] (low nibble) and m[4..7] (high nibble), whose top 2 bits sit in the
/// top bits of bytes 0-3 and 4-7.
static inline void ck_k4_scales_mins(const uint8_t *packed, uint8_t sc[8], uint8_t m[8]) {
    uint32_t w0 = ck_load_u32(packed), w1 = ck_load_u32(packed + 4), w2 = ck_load_u32(packed + 8);
    uint32_t s[4] = {
        w0 & 0x3f3f3f3fu,
        (w2 & 0x0f0f0f0fu) | ((w0 >> 2) & 0x30303030u),
        w1 & 0x3f3f3f3fu,
        ((w2 >> 4) & 0x0f0f0f0fu) | ((w1 >> 2) & 0x30303030u),
    };
    memcpy(sc, s, 8);
    memcpy(m, s + 2, 8);
}

/// The sixteen 6-bit Q3_K scales with their -32 offset applied.
/// Packing: low nibbles of bytes 0-7 are scales 0-7, high nibbles scales 8-15; byte 8+j holds
/// the top 2 bits of scales j, j+4, j+8, j+12 at bit offsets 0, 2, 4, 6.
static inline void ck_q3_K_scales(const uint8_t *packed, int8_t out[16]) {
    uint32_t w0 = ck_load_u32(packed), w1 = ck_load_u32(packed + 4), w2 = ck_load_u32(packed + 8);
    uint32_t s[4] = {
        (w0 & 0x0f0f0f0fu) | ((w2 << 4) & 0x30303030u),
        (w1 & 0x0f0f0f0fu) | ((w2 << 2) & 0x30303030u),
        ((w0 >> 4) & 0x0f0f0f0fu) | (w2 & 0x30303030u),
        ((w1 >> 4) & 0x0f0f0f0fu) | ((w2 >> 2) & 0x30303030u),
    };
    uint8_t u[16];
    memcpy(u, s, 16);
    for (int j = 0; j < 16; j++) out[j] = (int8_t)(u[j] - 32);
}

void ck_kq_dequantize(int type, const void *src, float *dst, int64_t n);
/// Quantizes one float row (`n` a multiple of 256) into ck_block_q8_K, with the best ISA.
void ck_quantize_q8_K(const float *x, ck_block_q8_K *y, int n);
void ck_quantize_q8_K_scalar(const float *x, ck_block_q8_K *y, int n);
void ck_quantize_q8_K_avx2(const float *x, ck_block_q8_K *y, int n);

ck_dot_fn ck_kq_dot_scalar_for(int type);
ck_dot_fn ck_kq_dot_avx2_for(int type);
ck_dot_fn ck_kq_dot_avx512_for(int type);
ck_dot4_fn ck_kq_dot4_avx512_for(int type);
ck_gemm4x4_fn ck_kq_gemm4x4_avx512_for(int type);

/// Float-activation kernels (kquants_f32act.c), which ck_matmul_rows_f32act runs for the
/// K-quant formats; the tail rows take ck_kq_vec_dot_f32act_scalar (same arithmetic).
int ck_kq_has_f32_kernel(int type);
ck_dot4f_fn ck_kq_dot4f_for(int type);
ck_gemm4x4f_fn ck_kq_gemm4x4f_for(int type);

#endif
