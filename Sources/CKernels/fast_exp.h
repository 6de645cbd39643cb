// exp for vectorised loops, shared by the float ops and attention.
#ifndef CKERNELS_FAST_EXP_H
#define CKERNELS_FAST_EXP_H
#include <math.h>
#include <stdint.h>
#include <string.h>

/// exp(x) to ~2 ulp without libm calls, so loops over it vectorise.
static inline __attribute__((always_inline)) float fast_expf(float x) {
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

#endif
