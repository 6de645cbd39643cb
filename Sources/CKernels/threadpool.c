// Persistent worker pool. A decode step runs hundreds of parallel regions (one per matmul),
// so starting a region must cost microseconds: workers spin on a generation counter for a
// while before parking on a condition variable, and the caller works as thread 0.
#include "internal.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#include <sched.h>

// Spin with `pause` first (a region usually starts within microseconds), then yield the core
// (so an oversubscribed machine still makes progress), then park.
enum { SPIN_PAUSE = 2000, SPIN_ITERATIONS = 50000 };

static inline void backoff(int spins) {
    if (spins < SPIN_PAUSE) CPU_RELAX();
    else sched_yield();
}

struct ck_pool {
    int n_threads;
    pthread_t *threads;
    _Atomic uint64_t generation;   // bumped once per region
    _Atomic int pending;           // workers still running the current region
    _Atomic int sleepers;          // workers parked on `wake`
    _Atomic int stop;
    ck_task_fn fn;
    void *ctx;
    pthread_mutex_t lock;
    pthread_cond_t wake;
};

typedef struct { ck_pool *pool; int index; } worker_arg;

static void *worker_main(void *p) {
    worker_arg arg = *(worker_arg *)p;
    free(p);
    ck_pool *pool = arg.pool;
    uint64_t seen = 0;
    for (;;) {
        uint64_t g;
        int spins = 0;
        while ((g = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen) {
            if (atomic_load_explicit(&pool->stop, memory_order_relaxed)) return 0;
            if (++spins < SPIN_ITERATIONS) { backoff(spins); continue; }
            pthread_mutex_lock(&pool->lock);
            atomic_fetch_add(&pool->sleepers, 1);
            while (atomic_load(&pool->generation) == seen && !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->wake, &pool->lock);
            atomic_fetch_sub(&pool->sleepers, 1);
            pthread_mutex_unlock(&pool->lock);
            spins = 0;
        }
        if (atomic_load(&pool->stop)) return 0;
        seen = g;
        pool->fn(pool->ctx, arg.index, pool->n_threads);
        atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel);
    }
}

ck_pool *ck_pool_create(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    ck_pool *pool = calloc(1, sizeof(ck_pool));
    if (!pool) return 0;
    pool->n_threads = n_threads;
    pthread_mutex_init(&pool->lock, 0);
    pthread_cond_init(&pool->wake, 0);
    pool->threads = calloc((size_t)n_threads, sizeof(pthread_t));
    for (int i = 1; i < n_threads; i++) {
        worker_arg *arg = malloc(sizeof(worker_arg));
        arg->pool = pool;
        arg->index = i;
        if (pthread_create(&pool->threads[i], 0, worker_main, arg) != 0) {
            free(arg);
            pool->n_threads = i; // run with the threads we got
            break;
        }
    }
    return pool;
}

void ck_pool_destroy(ck_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->stop, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 1; i < pool->n_threads; i++) pthread_join(pool->threads[i], 0);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->wake);
    free(pool->threads);
    free(pool);
}

int ck_pool_size(const ck_pool *pool) { return pool ? pool->n_threads : 1; }

void ck_pool_run(ck_pool *pool, ck_task_fn fn, void *ctx) {
    if (!pool || pool->n_threads == 1) { fn(ctx, 0, 1); return; }
    pool->fn = fn;
    pool->ctx = ctx;
    atomic_store_explicit(&pool->pending, pool->n_threads - 1, memory_order_relaxed);
    atomic_fetch_add(&pool->generation, 1); // seq_cst: ordered before the sleepers check below
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
    }
    fn(ctx, 0, pool->n_threads);
    int spins = 0;
    while (atomic_load_explicit(&pool->pending, memory_order_acquire) > 0) backoff(++spins);
}

typedef struct {
    int type, n, T, ldy, rows, f32act;
    const void *w; size_t w_row_bytes;
    const void *a; size_t a_row_bytes;
    float *y;
    const float *x;          // float activations, for mixed jobs
    const uint8_t *mask;     // mixed jobs: mask[t] = 1 -> token t uses the float kernel
} matmul_job;

/// Token runs of one mode each: float-kernel runs read `x`, the others the int8 rows.
static void matmul_mixed_rows(const matmul_job *j, int begin, int end) {
    int t0 = 0;
    while (t0 < j->T) {
        int mode = j->mask[t0], t1 = t0 + 1;
        while (t1 < j->T && j->mask[t1] == mode) t1++;
        float *y = j->y + (size_t)t0 * j->ldy;
        if (mode)
            ck_matmul_rows_f32act(j->type, j->n, j->w, j->w_row_bytes, j->x + (size_t)t0 * j->n, t1 - t0, y, j->ldy, begin, end);
        else
            ck_matmul_rows(j->type, j->n, j->w, j->w_row_bytes, (const uint8_t *)j->a + (size_t)t0 * j->a_row_bytes,
                           j->a_row_bytes, t1 - t0, y, j->ldy, begin, end);
        t0 = t1;
    }
}

static void matmul_task(void *p, int i, int nt) {
    const matmul_job *j = p;
    // Split rows in multiples of 16 so threads never write the same cache line of y.
    int chunk = ((j->rows + nt - 1) / nt + 15) & ~15;
    int begin = i * chunk;
    int end = begin + chunk < j->rows ? begin + chunk : j->rows;
    if (begin < end && j->mask)
        matmul_mixed_rows(j, begin, end);
    else if (begin < end && j->f32act)
        ck_matmul_rows_f32act(j->type, j->n, j->w, j->w_row_bytes, j->a, j->T, j->y, j->ldy, begin, end);
    else if (begin < end)
        ck_matmul_rows(j->type, j->n, j->w, j->w_row_bytes, j->a, j->a_row_bytes, j->T, j->y, j->ldy, begin, end);
}

void ck_pool_matmul(ck_pool *pool, int type, int n, const void *w, size_t w_row_bytes,
                    const void *a, size_t a_row_bytes, int T, float *y, int ldy, int rows) {
    matmul_job job = { type, n, T, ldy, rows, 0, w, w_row_bytes, a, a_row_bytes, y, 0, 0 };
    ck_pool_run(pool, matmul_task, &job);
}

void ck_pool_matmul_f32act(ck_pool *pool, int type, int n, const void *w, size_t w_row_bytes,
                           const float *x, int T, float *y, int ldy, int rows) {
    matmul_job job = { type, n, T, ldy, rows, 1, w, w_row_bytes, x, (size_t)n * 4, y, 0, 0 };
    ck_pool_run(pool, matmul_task, &job);
}

void ck_pool_matmul_mixed(ck_pool *pool, int type, int n, const void *w, size_t w_row_bytes,
                          const void *a, size_t a_row_bytes, const float *x, const uint8_t *mask,
                          int T, float *y, int ldy, int rows) {
    matmul_job job = { type, n, T, ldy, rows, 0, w, w_row_bytes, a, a_row_bytes, y, x, mask };
    ck_pool_run(pool, matmul_task, &job);
}
