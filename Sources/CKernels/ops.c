// Float row operations of a transformer layer. Each op's body is written once as an
// always-inline function and instantiated twice: a portable build and an AVX2+FMA build
// selected at run time, so the compiler vectorises the same loops for both.
#include "internal.h"
#include "fast_exp.h"
#include <math.h>

#define INLINE static inline __attribute__((always_inline))
#if defined(__x86_64__) || defined(__i386__)
#define HAS_X86 1
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#else
#define HAS_X86 0
#endif

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


