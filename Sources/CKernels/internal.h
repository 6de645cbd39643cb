// Private declarations shared by the CKernels translation units.
#ifndef CKERNELS_INTERNAL_H
#define CKERNELS_INTERNAL_H
#include "ckernels.h"
#include <string.h>

typedef float (*ck_dot_fn)(int n, const void *w, const void *a);

typedef struct { uint16_t d; uint8_t qs[16]; } ck_block_q4_0;
typedef struct { uint16_t d; uint16_t m; uint8_t qs[16]; } ck_block_q4_1;
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } ck_block_q5_0;
typedef struct { uint16_t d; uint16_t m; uint8_t qh[4]; uint8_t qs[16]; } ck_block_q5_1;
typedef struct { uint16_t d; int8_t qs[32]; } ck_block_q8_0;

_Static_assert(sizeof(ck_block_q4_0) == 18, "q4_0 block");
_Static_assert(sizeof(ck_block_q4_1) == 20, "q4_1 block");
_Static_assert(sizeof(ck_block_q5_0) == 22, "q5_0 block");
_Static_assert(sizeof(ck_block_q5_1) == 24, "q5_1 block");
_Static_assert(sizeof(ck_block_q8_0) == 34, "q8_0 block");
_Static_assert(sizeof(ck_block_q8) == 40, "q8 activation block");

static inline uint32_t ck_load_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/// Four consecutive weight rows (`row_bytes` apart) against one activation row -> out[4].
typedef void (*ck_dot4_fn)(int n, const void *w, size_t row_bytes, const void *a, float *out);

/// Four weight rows x four activation rows -> y[t * ldy + r] for r, t in 0..<4.
typedef void (*ck_gemm4x4_fn)(int n, const void *w, size_t row_bytes, const void *a, size_t a_row_bytes,
                              float *y, int ldy);

/// Float activations (quant_f32act.c, kquants_f32act.c): four weight rows against one float
/// row -> out[4]; four rows x four float rows -> y[t * ldy + r].
typedef void (*ck_dot4f_fn)(int n, const void *w, size_t row_bytes, const float *x, float *out);
typedef void (*ck_gemm4x4f_fn)(int n, const void *w, size_t row_bytes, const float *x, float *y, int ldy);

ck_dot_fn ck_dot_scalar_for(int type);
ck_gemm4x4_fn ck_gemm4x4_avx512_for(int type);
ck_dot4_fn ck_dot4_avx512_for(int type);
ck_dot_fn ck_dot_avx2_for(int type);
ck_dot_fn ck_dot_avx512_for(int type);
void ck_quantize_q8_scalar(const float *x, ck_block_q8 *y, int n);
void ck_quantize_q8_avx2(const float *x, ck_block_q8 *y, int n);

#endif
