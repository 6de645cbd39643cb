// CKernels: the innermost SIMD loops of SwiftLLM.
//
// Swift has no per-function target features, so the vector code lives here with
// `__attribute__((target(...)))` variants chosen at run time (see cpu.c). Every fast path has
// a scalar twin (suffix `_scalar`) that the tests compare against.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - CPU features

enum ck_isa { CK_ISA_SCALAR = 0, CK_ISA_AVX2 = 1, CK_ISA_AVX512 = 2 };
/// The best instruction set this CPU supports (detected once).
int ck_cpu_isa(void);
/// Forces a lower instruction set (for tests and benchmarks); returns the one in effect.
int ck_set_isa(int isa);
const char *ck_isa_name(int isa);

// MARK: - Numeric conversions (exact)

float ck_fp16_to_fp32(uint16_t h);
uint16_t ck_fp32_to_fp16(float f);
float ck_bf16_to_fp32(uint16_t h);

// MARK: - Weight formats (ggml numbering)

enum ck_type {
    CK_F32 = 0, CK_F16 = 1, CK_Q4_0 = 2, CK_Q4_1 = 3, CK_Q5_0 = 6, CK_Q5_1 = 7, CK_Q8_0 = 8,
    CK_Q2_K = 10, CK_Q3_K = 11, CK_Q4_K = 12, CK_Q5_K = 13, CK_Q6_K = 14, CK_BF16 = 30,
};

/// Whether the kernels can dequantize / multiply this ggml type.
int ck_type_supported(int type);
/// Elements per block and bytes per block of a supported type (0 for unsupported).
int ck_type_block_size(int type);
int ck_type_block_bytes(int type);

/// Dequantizes `n` elements (a whole number of blocks) of `type` from `src` into `dst`.
/// Bit-exact with the gguf package's reference dequantizer.
void ck_dequantize(int type, const void *src, float *dst, int64_t n);

// MARK: - Activation quantization
//
// Quantized weight formats multiply against activations quantized once per matmul input:
//   32-element weight blocks -> ck_block_q8 (float scale, float scale*sum, 32 int8)
//   K-quant super-blocks (256 elements) -> ck_block_q8_K (float scale, 256 int8, sums of 16)
// Float weight formats (F32, F16, BF16) take float activations as they are.

typedef struct {
    float d;        // scale
    float s;        // d * sum(qs), lets offset formats (Q4_1, Q5_1) and Q4_0's -8 fold in cheaply
    int8_t qs[32];
} ck_block_q8;

typedef struct {
    float d;           // scale
    int8_t qs[256];
    int16_t bsums[16]; // sum of each 16 quants: folds K-quant mins and offsets in cheaply
} ck_block_q8_K;

/// Activation kind a weight type multiplies against.
enum ck_act { CK_ACT_F32 = 0, CK_ACT_Q8 = 1, CK_ACT_Q8K = 2 };
int ck_type_activation(int type);
/// Bytes one activation row of `n` elements occupies in the activation format of `type`.
size_t ck_activation_row_bytes(int type, int n);
/// Converts one float row into the activation format of `type` (a plain copy for float formats).
void ck_quantize_activation(int type, const float *x, void *dst, int n);

// MARK: - Dot products and matmul

/// Dot product of one weight row (`n` elements of `type`) with one activation row in the
/// matching activation format.
float ck_vec_dot(int type, int n, const void *w, const void *a);
float ck_vec_dot_scalar(int type, int n, const void *w, const void *a);

/// y[t * ldy + r] = dot(W row r, activation row t) for r in [row_begin, row_end), t in [0, T).
/// `w` points at row 0; rows are `w_row_bytes` apart; activation rows `a_row_bytes` apart.
void ck_matmul_rows(int type, int n, const void *w, size_t w_row_bytes,
                    const void *a, size_t a_row_bytes, int T,
                    float *y, int ldy, int row_begin, int row_end);

// MARK: - Float-activation matmul (decode-size batches)

/// Whether this CPU has a kernel multiplying `type` weights by unrounded float activations.
int ck_type_has_f32_kernel(int type);
/// Whether prompt rows (large batches) of `type` are faster with float activations than with
/// int8 on this CPU (a float 4x4 GEMM exists and an int8 one does not).
int ck_type_f32_for_prompt(int type);
/// As ck_matmul_rows, but `x` is [T, n] floats used as they are (no activation quantization).
void ck_matmul_rows_f32act(int type, int n, const void *w, size_t w_row_bytes, const float *x, int T,
                           float *y, int ldy, int row_begin, int row_end);
/// Reference twin: the dequantized row dotted with x in double precision.
float ck_vec_dot_f32act_scalar(int type, int n, const void *w, const float *x);
/// K-quants (Q2_K .. Q6_K): the scalar twin of their float-activation kernels, which do this
/// exact arithmetic on every ISA (16 fmaf lanes in element order, a fixed summation tree), so
/// it equals them bit for bit.
float ck_kq_vec_dot_f32act_scalar(int type, int n, const void *w, const float *x);

// MARK: - Elementwise and normalisation ops (float rows)

/// out = x / rms(x) * weight  (weight may be NULL = ones). `out` may alias `x`.
void ck_rmsnorm(float *out, const float *x, const float *weight, int n, float eps);
/// x[i] = silu(g[i]) * u[i]  written into g.
void ck_silu_mul(float *g, const float *u, int n);
/// g[i] = gelu(g[i]) * u[i] (tanh approximation), written into g.
void ck_gelu_mul(float *g, const float *u, int n);
/// x *= s
void ck_scale(float *x, float s, int n);
/// x += y
void ck_add(float *x, const float *y, int n);
/// Rotary embedding on `n_heads` heads of `head_dim` for one token at `pos`.
/// mode 0 = adjacent pairs (ggml "normal", GGUF llama); mode 2 = halves (NeoX).
/// `freqs` holds head_dim/2 inverse frequencies (base^(-2i/rot_dim)); only `rot_dim` dims rotate.
void ck_rope(float *x, int n_heads, int head_dim, int rot_dim, int pos, const float *freqs, int mode);
/// In-place softmax of n values, returns nothing.
void ck_softmax(float *x, int n);

// MARK: - Attention

/// Element type of a KV cache pool.
typedef enum { CK_KV_F32 = 0, CK_KV_F16 = 1 } ck_kv_type;

/// Causal attention for the query rows of one sequence over its paged KV cache.
///
/// q:      [n_q, n_heads, head_dim]  queries, row stride q_stride floats
/// out:    [n_q, n_heads, head_dim]  row stride out_stride floats
/// k_pool, v_pool: per-layer pools [n_blocks][block_size][n_kv_heads * head_dim] of `kv_type`
/// block_table: block ids for positions 0.. of this sequence
/// q_pos:  position of each query row; row i attends to keys 0...q_pos[i] (and within
///         `window` positions when window > 0, for sliding-window layers)
/// Heads [head_begin, head_end) are computed (callers split heads across threads).
void ck_attention_paged(const float *q, int q_stride, float *out, int out_stride,
                        const void *k_pool, const void *v_pool, int kv_type,
                        const int32_t *block_table, int block_size,
                        const int32_t *q_pos, int n_q,
                        int n_heads, int n_kv_heads, int head_dim, float scale, int window,
                        int head_begin, int head_end);

/// Writes n floats into a pool at element `offset`, converting to the pool's `kv_type`
/// (F16: round to nearest even, the same on every ISA).
void ck_kv_store(void *pool, size_t offset, const float *src, int n, int kv_type);

// MARK: - Machine probes (roofline)

/// Reads `bytes` of `buf` with wide loads; returns a value derived from them (keep it).
double ck_probe_read(const void *buf, size_t bytes);
/// Runs `iters` rounds of independent F32 FMAs on the best ISA; *flops receives the count.
double ck_probe_fma_f32(long iters, double *flops);
/// Runs `iters` rounds of int8 multiply-accumulates (VNNI / AVX2 / scalar); *ops receives the count.
double ck_probe_dot_i8(long iters, double *ops);

// MARK: - Thread pool
//
// Persistent workers: a parallel region costs microseconds, and a decode step has hundreds.
// Workers spin briefly on a generation counter, then park on a condition variable.

typedef struct ck_pool ck_pool;
typedef void (*ck_task_fn)(void *ctx, int thread_index, int n_threads);

ck_pool *ck_pool_create(int n_threads);
void ck_pool_destroy(ck_pool *pool);
int ck_pool_size(const ck_pool *pool);
/// Runs fn(ctx, i, n) on every thread i in [0, n) (the caller is thread 0) and waits for all.
void ck_pool_run(ck_pool *pool, ck_task_fn fn, void *ctx);

/// Parallel matmul over the pool: splits output rows across threads (in chunks aligned to
/// cache lines of y) and runs ck_matmul_rows on each part.
void ck_pool_matmul(ck_pool *pool, int type, int n, const void *w, size_t w_row_bytes,
                    const void *a, size_t a_row_bytes, int T, float *y, int ldy, int rows);
/// Pooled matmul choosing the kernel per token: mask[t] = 1 -> float activations x[t]
/// (ck_matmul_rows_f32act), else the int8 activation row a[t]. A token's result depends only
/// on its own mode, never on which other tokens share the batch.
void ck_pool_matmul_mixed(ck_pool *pool, int type, int n, const void *w, size_t w_row_bytes,
                          const void *a, size_t a_row_bytes, const float *x, const uint8_t *mask,
                          int T, float *y, int ldy, int rows);
/// Pooled form of ck_matmul_rows_f32act.
void ck_pool_matmul_f32act(ck_pool *pool, int type, int n, const void *w, size_t w_row_bytes,
                           const float *x, int T, float *y, int ldy, int rows);

#ifdef __cplusplus
}
#endif
#endif
