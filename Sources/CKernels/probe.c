// Machine probes for the roofline: read bandwidth and peak arithmetic throughput per thread.
// Each loop keeps enough independent accumulators to cover the FMA / dot latency, so what it
// measures is issue throughput, the ceiling real kernels are judged against.
#include "internal.h"
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAS_X86 1
#define AVX2 __attribute__((target("avx2,fma")))
#define AVX512 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))
#else
#define HAS_X86 0
#endif

// MARK: - Read bandwidth

static double read_portable(const uint64_t *p, size_t n) {
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (size_t i = 0; i + 4 <= n; i += 4) { a ^= p[i]; b ^= p[i + 1]; c ^= p[i + 2]; d ^= p[i + 3]; }
    return (double)(a ^ b ^ c ^ d);
}

#if HAS_X86
AVX2 static double read_avx2(const uint8_t *p, size_t bytes) {
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    for (size_t i = 0; i + 128 <= bytes; i += 128) {
        a = _mm256_xor_si256(a, _mm256_loadu_si256((const __m256i *)(p + i)));
        b = _mm256_xor_si256(b, _mm256_loadu_si256((const __m256i *)(p + i + 32)));
        c = _mm256_xor_si256(c, _mm256_loadu_si256((const __m256i *)(p + i + 64)));
        d = _mm256_xor_si256(d, _mm256_loadu_si256((const __m256i *)(p + i + 96)));
    }
    a = _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d));
    return (double)_mm256_extract_epi32(a, 0);
}
#endif

double ck_probe_read(const void *buf, size_t bytes) {
#if HAS_X86
    if (ck_cpu_isa() >= CK_ISA_AVX2) return read_avx2(buf, bytes);
#endif
    return read_portable(buf, bytes / 8);
}

// MARK: - F32 FMA throughput

enum { FMA_ACC = 12 };

static double fma_portable(long iters, double *flops) {
    float acc[FMA_ACC * 8];
    for (int i = 0; i < FMA_ACC * 8; i++) acc[i] = (float)i * 1e-3f;
    const float m = 0.999999f, k = 1e-7f;
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < FMA_ACC * 8; i++) acc[i] = acc[i] * m + k;
    double s = 0;
    for (int i = 0; i < FMA_ACC * 8; i++) s += acc[i];
    *flops = 2.0 * FMA_ACC * 8 * (double)iters;
    return s;
}

#if HAS_X86
AVX2 static double fma_avx2(long iters, double *flops) {
    __m256 acc[FMA_ACC];
    for (int i = 0; i < FMA_ACC; i++) acc[i] = _mm256_set1_ps((float)i * 1e-3f);
    const __m256 m = _mm256_set1_ps(0.999999f), k = _mm256_set1_ps(1e-7f);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < FMA_ACC; i++) acc[i] = _mm256_fmadd_ps(acc[i], m, k);
    __m256 s = acc[0];
    for (int i = 1; i < FMA_ACC; i++) s = _mm256_add_ps(s, acc[i]);
    float out[8]; _mm256_storeu_ps(out, s);
    *flops = 2.0 * FMA_ACC * 8 * (double)iters;
    return out[0];
}

AVX512 static double fma_avx512(long iters, double *flops) {
    __m512 acc[FMA_ACC];
    for (int i = 0; i < FMA_ACC; i++) acc[i] = _mm512_set1_ps((float)i * 1e-3f);
    const __m512 m = _mm512_set1_ps(0.999999f), k = _mm512_set1_ps(1e-7f);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < FMA_ACC; i++) acc[i] = _mm512_fmadd_ps(acc[i], m, k);
    __m512 s = acc[0];
    for (int i = 1; i < FMA_ACC; i++) s = _mm512_add_ps(s, acc[i]);
    *flops = 2.0 * FMA_ACC * 16 * (double)iters;
    return _mm512_reduce_add_ps(s);
}
#endif

double ck_probe_fma_f32(long iters, double *flops) {
#if HAS_X86
    int isa = ck_cpu_isa();
    if (isa >= CK_ISA_AVX512) return fma_avx512(iters, flops);
    if (isa >= CK_ISA_AVX2) return fma_avx2(iters, flops);
#endif
    return fma_portable(iters, flops);
}

// MARK: - int8 dot throughput (multiply-accumulates count as 2 ops)

static double dot_portable(long iters, double *ops) {
    int32_t acc[64] = {0};
    int8_t a[64], b[64];
    for (int i = 0; i < 64; i++) { a[i] = (int8_t)(i - 32); b[i] = (int8_t)(3 - i % 7); }
    for (long it = 0; it < iters; it++) {
        for (int i = 0; i < 64; i++) acc[i] += a[i] * b[i];
        a[it & 63] ^= 1;
    }
    double s = 0;
    for (int i = 0; i < 64; i++) s += acc[i];
    *ops = 2.0 * 64 * (double)iters;
    return s;
}

#if HAS_X86
AVX2 static double dot_avx2(long iters, double *ops) {
    __m256i acc[FMA_ACC];
    for (int i = 0; i < FMA_ACC; i++) acc[i] = _mm256_setzero_si256();
    const __m256i u = _mm256_set1_epi8(3), s8 = _mm256_set1_epi8(-2), ones = _mm256_set1_epi16(1);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < FMA_ACC; i++)
            acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(_mm256_maddubs_epi16(u, s8), ones));
    __m256i s = acc[0];
    for (int i = 1; i < FMA_ACC; i++) s = _mm256_add_epi32(s, acc[i]);
    *ops = 2.0 * FMA_ACC * 32 * (double)iters;
    return (double)_mm256_extract_epi32(s, 0);
}

AVX512 static double dot_avx512(long iters, double *ops) {
    // 256-bit vpdpbusd, as the matmul kernels use (no 512-bit frequency penalty).
    __m256i acc[FMA_ACC];
    for (int i = 0; i < FMA_ACC; i++) acc[i] = _mm256_setzero_si256();
    const __m256i u = _mm256_set1_epi8(3), s8 = _mm256_set1_epi8(-2);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < FMA_ACC; i++) acc[i] = _mm256_dpbusd_epi32(acc[i], u, s8);
    __m256i s = acc[0];
    for (int i = 1; i < FMA_ACC; i++) s = _mm256_add_epi32(s, acc[i]);
    *ops = 2.0 * FMA_ACC * 32 * (double)iters;
    return (double)_mm256_extract_epi32(s, 0);
}
#endif

double ck_probe_dot_i8(long iters, double *ops) {
#if HAS_X86
    int isa = ck_cpu_isa();
    if (isa >= CK_ISA_AVX512) return dot_avx512(iters, ops);
    if (isa >= CK_ISA_AVX2) return dot_avx2(iters, ops);
#endif
    return dot_portable(iters, ops);
}
