#include "sample.h"

static void swap(int *a, int *b) { int t = *a; *a = *b; *b = t; }

static void quick(int *v, long lo, long hi)
{
    while (lo < hi) {
        int pivot = v[(lo + hi) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) swap(&v[i++], &v[j--]);
        }
        if (j - lo < hi - i) { quick(v, lo, j); lo = i; }
        else { quick(v, i, hi); hi = j; }
    }
}

void sort_ints(int *v, size_t n) { if (n > 1) quick(v, 0, (long)n - 1); }

int is_sorted(const int *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (v[i - 1] > v[i]) return 0;
    return 1;
}
