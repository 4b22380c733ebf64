/*
 * Where the theoretical FMA peak comes from, measured on this CPU (x86-64 with AVX-512 only):
 *
 * 1. clock: a chain of dependent integer adds retires one add per cycle, so adds per second is
 *    the core clock. In a VM /proc/cpuinfo "cpu MHz" is often the constant TSC rate, so the
 *    clock has to be measured this way.
 * 2. clock under AVX-512 load: the same add chain (16 adds per iteration) interleaved with 24
 *    independent 512-bit FMAs per iteration; the adds bound the loop, so it still measures the
 *    clock while the FMA pipes are kept about 75% busy.
 * 3. FMA throughput: 24 independent 512-bit FMA accumulators (as `costbench probe`), and a
 *    single dependent FMA chain (its latency in cycles).
 *
 * FLOP/cycle = FMA FLOP/s / clock; 64 f32 FLOP/cycle means two 512-bit FMA pipes
 * (2 pipes x 16 lanes x 2 FLOPs). Every OpenMP thread runs the same kernels concurrently.
 * usage: OMP_NUM_THREADS=1 ./peak_clock [seconds per kernel and round (default 0.1)]
 */
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define ADD16 "add %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\t" \
              "add %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\t" \
              "add %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\t"

static double add_chain(long iters, uint64_t *sink) {
    uint64_t x = 0, y = 1;
    double t0 = omp_get_wtime();
    for (long i = 0; i < iters; i++)
        __asm__ volatile(ADD16 : "+r"(x) : "r"(y));
    double t = omp_get_wtime() - t0;
    *sink += x;
    return 16.0 * (double)iters / t; /* adds (cycles) per second */
}

/* 24 accumulators as separate variables: GCC keeps them in zmm registers (an array would be
 * left in memory). */
#define DECL24(init)                                                                           \
    __m512 r0 = init(0), r1 = init(1), r2 = init(2), r3 = init(3), r4 = init(4), r5 = init(5),   \
           r6 = init(6), r7 = init(7), r8 = init(8), r9 = init(9), r10 = init(10),               \
           r11 = init(11), r12 = init(12), r13 = init(13), r14 = init(14), r15 = init(15),       \
           r16 = init(16), r17 = init(17), r18 = init(18), r19 = init(19), r20 = init(20),       \
           r21 = init(21), r22 = init(22), r23 = init(23);
#define INIT(k) _mm512_set1_ps((float)(k))
#define F(r) r = _mm512_fmadd_ps(r, a, b);
#define FMA24                                                                                  \
    F(r0) F(r1) F(r2) F(r3) F(r4) F(r5) F(r6) F(r7) F(r8) F(r9) F(r10) F(r11) F(r12) F(r13)     \
    F(r14) F(r15) F(r16) F(r17) F(r18) F(r19) F(r20) F(r21) F(r22) F(r23)
#define SUM24                                                                                  \
    _mm512_reduce_add_ps(_mm512_add_ps(                                                        \
        _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(r0, r1), _mm512_add_ps(r2, r3)),             \
                      _mm512_add_ps(_mm512_add_ps(r4, r5), _mm512_add_ps(r6, r7))),            \
        _mm512_add_ps(                                                                         \
            _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(r8, r9), _mm512_add_ps(r10, r11)),       \
                          _mm512_add_ps(_mm512_add_ps(r12, r13), _mm512_add_ps(r14, r15))),    \
            _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(r16, r17), _mm512_add_ps(r18, r19)),     \
                          _mm512_add_ps(_mm512_add_ps(r20, r21), _mm512_add_ps(r22, r23))))))

static double add_chain_under_fma(long iters, uint64_t *sink, float *fsink) {
    uint64_t x = 0, y = 1;
    DECL24(INIT)
    __m512 a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(0.0001f);
    double t0 = omp_get_wtime();
    for (long i = 0; i < iters; i++) {
        __asm__ volatile(ADD16 : "+r"(x) : "r"(y));
        FMA24
    }
    double t = omp_get_wtime() - t0;
    *fsink += SUM24;
    *sink += x;
    return 16.0 * (double)iters / t;
}

static double fma_throughput(long iters, float *fsink) {
    DECL24(INIT)
    __m512 a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(0.0001f);
    double t0 = omp_get_wtime();
    for (long i = 0; i < iters; i++) {
        FMA24
    }
    double t = omp_get_wtime() - t0;
    *fsink += SUM24;
    return 24.0 * 16.0 * 2.0 * (double)iters / t; /* f32 FLOP/s */
}

static double fma_latency(long iters, float *fsink) {
    __m512 c = _mm512_set1_ps(1.0f), a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(0.0001f);
    double t0 = omp_get_wtime();
    for (long i = 0; i < iters; i++) {
        c = _mm512_fmadd_ps(c, a, b);
        c = _mm512_fmadd_ps(c, a, b);
        c = _mm512_fmadd_ps(c, a, b);
        c = _mm512_fmadd_ps(c, a, b);
    }
    double t = omp_get_wtime() - t0;
    *fsink += _mm512_reduce_add_ps(c);
    return t / (4.0 * (double)iters); /* seconds per dependent FMA */
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#define ROUNDS 9
#define MAX_THREADS 64

int main(int argc, char **argv) {
    /* Each round runs the clock kernels and the FMA kernel back to back (~0.1 s each), so the
     * clock is measured within a fraction of a second of the FLOP rate it explains. */
    double seconds = argc > 1 ? atof(argv[1]) : 0.1;
    int threads = omp_get_max_threads();
    if (threads > MAX_THREADS) {
        fprintf(stderr, "at most %d threads\n", MAX_THREADS);
        return 2;
    }
    static double clk[MAX_THREADS][ROUNDS], clk_fma[MAX_THREADS][ROUNDS],
        flops[MAX_THREADS][ROUNDS], per_cycle[MAX_THREADS][ROUNDS], lat[MAX_THREADS][ROUNDS];
    uint64_t sink = 0;
    float fsink = 0;
#pragma omp parallel reduction(+ : sink, fsink)
    {
        int t = omp_get_thread_num();
        /* At ~4 GHz: 2.5e8 iterations of 16 adds per second; 3.3e8 iterations of 24 FMAs
         * take 12 cycles each at 2 FMAs per cycle. */
        long n_add = (long)(seconds * 2.5e8), n_fma = (long)(seconds * 3.3e8);
        add_chain(n_add, &sink); /* warm-up */
        fma_throughput(n_fma, &fsink);
        for (int r = 0; r < ROUNDS; r++) {
#pragma omp barrier
            double before = add_chain(n_add, &sink);
#pragma omp barrier
            flops[t][r] = fma_throughput(n_fma, &fsink);
#pragma omp barrier
            double after = add_chain(n_add, &sink);
#pragma omp barrier
            clk_fma[t][r] = add_chain_under_fma(n_add, &sink, &fsink);
#pragma omp barrier
            lat[t][r] = fma_latency(n_fma / 4, &fsink);
            clk[t][r] = 0.5 * (before + after);
            per_cycle[t][r] = flops[t][r] / clk[t][r];
        }
    }
    double sum_flops = 0;
    for (int t = 0; t < threads; t++) {
        double lat_cycles[ROUNDS];
        for (int r = 0; r < ROUNDS; r++)
            lat_cycles[r] = lat[t][r] * clk[t][r];
        double c = median(clk[t], ROUNDS), cf = median(clk_fma[t], ROUNDS);
        double f = median(flops[t], ROUNDS), pc = median(per_cycle[t], ROUNDS);
        double lc = median(lat_cycles, ROUNDS);
        printf("thread %d (medians of %d rounds): clock %.3f GHz (add chain around the FMA "
               "kernel), %.3f GHz (add chain under AVX-512 FMA load); FMA f32 %.1f GFLOP/s = "
               "%.1f FLOP/cycle; dependent FMA %.2f cycles\n",
               t, ROUNDS, c / 1e9, cf / 1e9, f / 1e9, pc, lc);
        sum_flops += f;
    }
    printf("threads %d: FMA f32 total %.1f GFLOP/s%s\n", threads, sum_flops / 1e9,
           (sink == 1 && fsink == 1.0f) ? " " : "");
    return 0;
}
