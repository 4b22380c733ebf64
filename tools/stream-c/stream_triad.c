/*
 * A compact STREAM triad (after John McCalpin's STREAM, https://www.cs.virginia.edu/stream/):
 * a[i] = b[i] + s * c[i] over three double arrays, OpenMP static schedule, first touch in
 * parallel, every pass timed on its own. Bandwidth counts 24 bytes per element (two reads,
 * one write; the write-allocate read is not counted), as STREAM does and as `costbench probe`
 * does, so the two figures compare directly.
 *
 * usage: stream_triad [MiB per array (default 128)] [passes (default 20)]
 * prints: threads, array size, best and median GB/s (10^9 bytes/s) over the timed passes.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 128;
    int passes = argc > 2 ? atoi(argv[2]) : 20;
    if (mib == 0 || passes < 1) {
        fprintf(stderr, "usage: %s [MiB per array] [passes]\n", argv[0]);
        return 2;
    }
    size_t n = mib * 1024 * 1024 / sizeof(double);
    double *a = aligned_alloc(64, n * sizeof(double));
    double *b = aligned_alloc(64, n * sizeof(double));
    double *c = aligned_alloc(64, n * sizeof(double));
    double *rates = malloc(sizeof(double) * (size_t)passes);
    if (!a || !b || !c || !rates) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        a[i] = 0.0;
        b[i] = 1.0;
        c[i] = 2.0;
    }

    volatile double scalar_in = 3.0;
    double s = scalar_in;
    for (int k = -1; k < passes; k++) { /* pass -1 is a warm-up */
        double t0 = omp_get_wtime();
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++)
            a[i] = b[i] + s * c[i];
        double t = omp_get_wtime() - t0;
        if (k >= 0)
            rates[k] = 24.0 * (double)n / t / 1e9;
    }

    /* Check the result so the passes cannot be optimised away. */
    double expect = 1.0 + 3.0 * 2.0, err = 0.0;
    for (size_t i = 0; i < n; i += 4096)
        err += a[i] - expect;
    if (err != 0.0) {
        fprintf(stderr, "triad result wrong (error sum %g)\n", err);
        return 1;
    }

    qsort(rates, (size_t)passes, sizeof(double), cmp_double);
    double median = passes % 2 ? rates[passes / 2]
                               : 0.5 * (rates[passes / 2 - 1] + rates[passes / 2]);
    printf("threads %d  array %zu MiB x 3  passes %d  best %.1f GB/s  median %.1f GB/s\n",
           omp_get_max_threads(), mib, passes, rates[passes - 1], median);
    free(a);
    free(b);
    free(c);
    free(rates);
    return 0;
}
