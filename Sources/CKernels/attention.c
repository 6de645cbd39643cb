// Paged causal attention over a KV cache stored as F32 or F16, and the cache writes.
//
// The body is written once as always-inline code and instantiated for a portable build and an
// AVX2+FMA+F16C build chosen at run time. F16 rows are widened to float one key (or value) row
// at a time into a small stack buffer, so the arithmetic after the load is the same for both
// storage types and no score matrix ever grows with the context.
#include "internal.h"
#include "fast_exp.h"

#define INLINE static inline __attribute__((always_inline))
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAS_X86 1
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#else
#define HAS_X86 0
#endif

enum { ATT_TILE = 64, ATT_MAX_HEAD_DIM = 512 };

/// Returns `n` floats of row `off` (in elements) of a pool, widening into `buf` when needed.
typedef const float *(*kv_load_fn)(const void *pool, size_t off, int n, float *buf);

static const float *load_f32(const void *pool, size_t off, int n, float *buf) {
    (void)n; (void)buf;
    return (const float *)pool + off;
}

static const float *load_f16_portable(const void *pool, size_t off, int n, float *buf) {
    const uint16_t *h = (const uint16_t *)pool + off;
    for (int i = 0; i < n; i++) buf[i] = ck_fp16_to_fp32(h[i]);
    return buf;
}

#if HAS_X86
AVX2 static const float *load_f16_f16c(const void *pool, size_t off, int n, float *buf) {
    const uint16_t *h = (const uint16_t *)pool + off;
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(buf + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
    for (; i < n; i++) buf[i] = _cvtsh_ss(h[i]);
    return buf;
}
#endif

INLINE float dot_body(const float *a, const float *b, int n) {
#pragma clang fp reassociate(on)
    float s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

INLINE size_t slot_of(const int32_t *block_table, int block_size, int p) {
    return (size_t)block_table[p / block_size] * (size_t)block_size + (size_t)(p % block_size);
}

/// One query row, one head: flash-style pass over the keys in tiles with an online softmax.
INLINE void attend_row(const float *q, float *out, const void *k_pool, const void *v_pool, kv_load_fn load,
                       const int32_t *block_table, int block_size, int kv_stride, int kv_off,
                       int start, int end, int head_dim, float scale) {
    float acc[ATT_MAX_HEAD_DIM];
    float row[ATT_MAX_HEAD_DIM];
    float sc[ATT_TILE];
    float m = -INFINITY, l = 0;
    for (int d = 0; d < head_dim; d++) acc[d] = 0;
    for (int p0 = start; p0 < end; p0 += ATT_TILE) {
        int np = end - p0 < ATT_TILE ? end - p0 : ATT_TILE;
        float tm = -INFINITY;
        for (int j = 0; j < np; j++) {
            size_t slot = slot_of(block_table, block_size, p0 + j);
            const float *k = load(k_pool, slot * (size_t)kv_stride + (size_t)kv_off, head_dim, row);
            sc[j] = dot_body(q, k, head_dim) * scale;
            tm = fmaxf(tm, sc[j]);
        }
        float nm = fmaxf(m, tm);
        float c = fast_expf(m - nm);
        l *= c;
        for (int d = 0; d < head_dim; d++) acc[d] *= c;
        for (int j = 0; j < np; j++) sc[j] = fast_expf(sc[j] - nm);
        for (int j = 0; j < np; j++) {
            size_t slot = slot_of(block_table, block_size, p0 + j);
            const float *v = load(v_pool, slot * (size_t)kv_stride + (size_t)kv_off, head_dim, row);
            float e = sc[j];
            l += e;
            for (int d = 0; d < head_dim; d++) acc[d] += e * v[d];
        }
        m = nm;
    }
    float inv = l > 0 ? 1.0f / l : 0.0f;
    for (int d = 0; d < head_dim; d++) out[d] = acc[d] * inv;
}

INLINE void attention_body(const float *q, int q_stride, float *out, int out_stride,
                           const void *k_pool, const void *v_pool, kv_load_fn load,
                           const int32_t *block_table, int block_size,
                           const int32_t *q_pos, int n_q,
                           int n_heads, int n_kv_heads, int head_dim, float scale, int window,
                           int head_begin, int head_end) {
    int group = n_heads / n_kv_heads;
    int kv_stride = n_kv_heads * head_dim;
    for (int i = 0; i < n_q; i++) {
        int end = q_pos[i] + 1;
        int start = window > 0 && end > window ? end - window : 0;
        for (int h = head_begin; h < head_end; h++) {
            attend_row(q + (size_t)i * q_stride + (size_t)h * head_dim,
                       out + (size_t)i * out_stride + (size_t)h * head_dim,
                       k_pool, v_pool, load, block_table, block_size, kv_stride, (h / group) * head_dim,
                       start, end, head_dim, scale);
        }
    }
}

static void attention_portable(const float *q, int q_stride, float *out, int out_stride,
                               const void *k_pool, const void *v_pool, int f16,
                               const int32_t *block_table, int block_size, const int32_t *q_pos, int n_q,
                               int n_heads, int n_kv_heads, int head_dim, float scale, int window,
                               int head_begin, int head_end) {
    if (f16)
        attention_body(q, q_stride, out, out_stride, k_pool, v_pool, load_f16_portable, block_table, block_size,
                       q_pos, n_q, n_heads, n_kv_heads, head_dim, scale, window, head_begin, head_end);
    else
        attention_body(q, q_stride, out, out_stride, k_pool, v_pool, load_f32, block_table, block_size,
                       q_pos, n_q, n_heads, n_kv_heads, head_dim, scale, window, head_begin, head_end);
}

#if HAS_X86
AVX2 static void attention_avx2(const float *q, int q_stride, float *out, int out_stride,
                                const void *k_pool, const void *v_pool, int f16,
                                const int32_t *block_table, int block_size, const int32_t *q_pos, int n_q,
                                int n_heads, int n_kv_heads, int head_dim, float scale, int window,
                                int head_begin, int head_end) {
    if (f16)
        attention_body(q, q_stride, out, out_stride, k_pool, v_pool, load_f16_f16c, block_table, block_size,
                       q_pos, n_q, n_heads, n_kv_heads, head_dim, scale, window, head_begin, head_end);
    else
        attention_body(q, q_stride, out, out_stride, k_pool, v_pool, load_f32, block_table, block_size,
                       q_pos, n_q, n_heads, n_kv_heads, head_dim, scale, window, head_begin, head_end);
}
#endif

void ck_attention_paged(const float *q, int q_stride, float *out, int out_stride,
                        const void *k_pool, const void *v_pool, int kv_type,
                        const int32_t *block_table, int block_size,
                        const int32_t *q_pos, int n_q,
                        int n_heads, int n_kv_heads, int head_dim, float scale, int window,
                        int head_begin, int head_end) {
    if (head_dim > ATT_MAX_HEAD_DIM || n_kv_heads <= 0 || n_heads % n_kv_heads != 0) return;
    int f16 = kv_type == CK_KV_F16;
#if HAS_X86
    if (ck_cpu_isa() >= CK_ISA_AVX2) {
        attention_avx2(q, q_stride, out, out_stride, k_pool, v_pool, f16, block_table, block_size, q_pos, n_q,
                       n_heads, n_kv_heads, head_dim, scale, window, head_begin, head_end);
        return;
    }
#endif
    attention_portable(q, q_stride, out, out_stride, k_pool, v_pool, f16, block_table, block_size, q_pos, n_q,
                       n_heads, n_kv_heads, head_dim, scale, window, head_begin, head_end);
}

// MARK: - Cache writes

#if HAS_X86
AVX2 static void store_f16_f16c(uint16_t *dst, const float *src, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = ck_fp32_to_fp16(src[i]);
}
#endif

void ck_kv_store(void *pool, size_t offset, const float *src, int n, int kv_type) {
    if (kv_type != CK_KV_F16) {
        memcpy((float *)pool + offset, src, (size_t)n * sizeof(float));
        return;
    }
    uint16_t *dst = (uint16_t *)pool + offset;
#if HAS_X86
    if (ck_cpu_isa() >= CK_ISA_AVX2) { store_f16_f16c(dst, src, n); return; }
#endif
    for (int i = 0; i < n; i++) dst[i] = ck_fp32_to_fp16(src[i]);
}
