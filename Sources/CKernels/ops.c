// Float row operations of a transformer layer. Each op's body is written once as an
// always-inline function and instantiated twice: a portable build and an AVX2+FMA build
// selected at run time, so the compiler vectorises the same loops for both.
#include "internal.h"
#include <math.h>

#define INLINE static inline __attribute__((always_inline))
#if defined(__x86_64__) || defined(__i386__)
#define HAS_X86 1
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#else
#define HAS_X86 0
#endif

/// exp(x) to ~2 ulp without libm calls, so loops over it vectorise.
INLINE float fast_expf(float x) {
    x = fminf(fmaxf(x, -87.0f), 88.0f);
    float k = nearbyintf(x * 1.44269504088896341f);
    float r = x - k * 0.693359375f;
    r = r - k * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t ki = (int32_t)k;
    uint32_t bits = (uint32_t)(ki + 127) << 23;
    float scale; memcpy(&scale, &bits, 4);
    return p * scale;
}

INLINE void rmsnorm_body(float *out, const float *x, const float *weight, int n, float eps) {
#pragma clang fp reassociate(on)
    float ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    float inv = 1.0f / sqrtf(ss / (float)n + eps);
    if (weight) for (int i = 0; i < n; i++) out[i] = x[i] * inv * weight[i];
    else for (int i = 0; i < n; i++) out[i] = x[i] * inv;
}

INLINE void silu_mul_body(float *g, const float *u, int n) {
    for (int i = 0; i < n; i++) g[i] = g[i] / (1.0f + fast_expf(-g[i])) * u[i];
}

/// GELU, tanh approximation (as ggml and Gemma use): 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))),
/// with tanh(z) = 1 - 2 / (exp(2z) + 1).
INLINE void gelu_mul_body(float *g, const float *u, int n) {
    for (int i = 0; i < n; i++) {
        float x = g[i];
        float z = 0.7978845608028654f * (x + 0.044715f * x * x * x);
        float t = 1.0f - 2.0f / (fast_expf(2.0f * z) + 1.0f);
        g[i] = 0.5f * x * (1.0f + t) * u[i];
    }
}

INLINE void add_body(float *x, const float *y, int n) {
    for (int i = 0; i < n; i++) x[i] += y[i];
}

#if HAS_X86
AVX2 static void rmsnorm_avx2(float *o, const float *x, const float *w, int n, float e) { rmsnorm_body(o, x, w, n, e); }
AVX2 static void silu_mul_avx2(float *g, const float *u, int n) { silu_mul_body(g, u, n); }
AVX2 static void add_avx2(float *x, const float *y, int n) { add_body(x, y, n); }
AVX2 static void gelu_mul_avx2(float *g, const float *u, int n) { gelu_mul_body(g, u, n); }
#endif

void ck_rmsnorm(float *out, const float *x, const float *weight, int n, float eps) {
#if HAS_X86
    if (ck_cpu_isa() >= CK_ISA_AVX2) { rmsnorm_avx2(out, x, weight, n, eps); return; }
#endif
    rmsnorm_body(out, x, weight, n, eps);
}

void ck_silu_mul(float *g, const float *u, int n) {
#if HAS_X86
    if (ck_cpu_isa() >= CK_ISA_AVX2) { silu_mul_avx2(g, u, n); return; }
#endif
    silu_mul_body(g, u, n);
}

void ck_gelu_mul(float *g, const float *u, int n) {
#if HAS_X86
    if (ck_cpu_isa() >= CK_ISA_AVX2) { gelu_mul_avx2(g, u, n); return; }
#endif
    gelu_mul_body(g, u, n);
}

void ck_scale(float *x, float s, int n) {
    for (int i = 0; i < n; i++) x[i] *= s;
}

void ck_add(float *x, const float *y, int n) {
#if HAS_X86
    if (ck_cpu_isa() >= CK_ISA_AVX2) { add_avx2(x, y, n); return; }
#endif
    add_body(x, y, n);
}

void ck_rope(float *x, int n_heads, int head_dim, int rot_dim, int pos, const float *freqs, int mode) {
    float cs[256], sn[256];
    int half = rot_dim / 2;
    if (half > 256) half = 256;
    for (int i = 0; i < half; i++) {
        float theta = (float)pos * freqs[i];
        cs[i] = cosf(theta);
        sn[i] = sinf(theta);
    }
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * head_dim;
        if (mode == 2) {
            for (int i = 0; i < half; i++) {
                float a = v[i], b = v[i + half];
                v[i] = a * cs[i] - b * sn[i];
                v[i + half] = a * sn[i] + b * cs[i];
            }
        } else {
            for (int i = 0; i < half; i++) {
                float a = v[2 * i], b = v[2 * i + 1];
                v[2 * i] = a * cs[i] - b * sn[i];
                v[2 * i + 1] = a * sn[i] + b * cs[i];
            }
        }
    }
}

void ck_softmax(float *x, int n) {
    float m = -INFINITY;
    for (int i = 0; i < n; i++) m = fmaxf(m, x[i]);
    float s = 0;
    for (int i = 0; i < n; i++) { x[i] = expf(x[i] - m); s += x[i]; }
    float inv = 1.0f / s;
    for (int i = 0; i < n; i++) x[i] *= inv;
}

// MARK: - Attention

enum { ATT_TILE = 64 };

INLINE float dot_body(const float *a, const float *b, int n) {
#pragma clang fp reassociate(on)
    float s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/// One query row, one head: flash-style pass over the keys in tiles with an online softmax,
/// so no score buffer grows with the context.
INLINE void attend_row(const float *q, float *out, const float *k_pool, const float *v_pool,
                       const int32_t *block_table, int block_size, int kv_stride, int kv_off,
                       int start, int end, int head_dim, float scale) {
    float acc[512];
    float sc[ATT_TILE];
    float m = -INFINITY, l = 0;
    for (int d = 0; d < head_dim; d++) acc[d] = 0;
    for (int p0 = start; p0 < end; p0 += ATT_TILE) {
        int np = end - p0 < ATT_TILE ? end - p0 : ATT_TILE;
        float tm = -INFINITY;
        for (int j = 0; j < np; j++) {
            int p = p0 + j;
            size_t slot = (size_t)block_table[p / block_size] * block_size + (size_t)(p % block_size);
            const float *k = k_pool + slot * kv_stride + kv_off;
            sc[j] = dot_body(q, k, head_dim) * scale;
            tm = fmaxf(tm, sc[j]);
        }
        float nm = fmaxf(m, tm);
        float c = fast_expf(m - nm);
        l *= c;
        for (int d = 0; d < head_dim; d++) acc[d] *= c;
        for (int j = 0; j < np; j++) sc[j] = fast_expf(sc[j] - nm);
        for (int j = 0; j < np; j++) {
            int p = p0 + j;
            size_t slot = (size_t)block_table[p / block_size] * block_size + (size_t)(p % block_size);
            const float *v = v_pool + slot * kv_stride + kv_off;
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
                           const float *k_pool, const float *v_pool,
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
                       k_pool, v_pool, block_table, block_size, kv_stride, (h / group) * head_dim,
                       start, end, head_dim, scale);
        }
    }
}

#if HAS_X86
AVX2 static void attention_avx2(const float *q, int q_stride, float *out, int out_stride,
                                const float *k_pool, const float *v_pool,
                                const int32_t *block_table, int block_size,
                                const int32_t *q_pos, int n_q,
                                int n_heads, int n_kv_heads, int head_dim, float scale, int window,
                                int head_begin, int head_end) {
    attention_body(q, q_stride, out, out_stride, k_pool, v_pool, block_table, block_size, q_pos, n_q,
                   n_heads, n_kv_heads, head_dim, scale, window, head_begin, head_end);
}
#endif

void ck_attention_paged_f32(const float *q, int q_stride, float *out, int out_stride,
                            const float *k_pool, const float *v_pool,
                            const int32_t *block_table, int block_size,
                            const int32_t *q_pos, int n_q,
                            int n_heads, int n_kv_heads, int head_dim, float scale, int window,
                            int head_begin, int head_end) {
    if (head_dim > 512 || n_kv_heads <= 0 || n_heads % n_kv_heads != 0) return;
#if HAS_X86
    if (ck_cpu_isa() >= CK_ISA_AVX2) {
        attention_avx2(q, q_stride, out, out_stride, k_pool, v_pool, block_table, block_size, q_pos, n_q,
                       n_heads, n_kv_heads, head_dim, scale, window, head_begin, head_end);
        return;
    }
#endif
    attention_body(q, q_stride, out, out_stride, k_pool, v_pool, block_table, block_size, q_pos, n_q,
                   n_heads, n_kv_heads, head_dim, scale, window, head_begin, head_end);
}
