/* sort.c - sorting kernels: quicksort (median of three, insertion sort
 * for short runs) and heapsort of pseudo-random ints.  argv[1] scales. */
#include <stdint.h>
#include <stdio.h>

#define DEFAULT_SCALE 3 /* the benchmark size; tests pass 1 */
#include <stdlib.h>

#define N 200000

static void insertion(int32_t *a, long lo, long hi)
{
  for (long i = lo + 1; i <= hi; i++) {
    int32_t v = a[i];
    long j = i - 1;
    while (j >= lo && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

static void swap(int32_t *a, long i, long j)
{
  int32_t t = a[i]; a[i] = a[j]; a[j] = t;
}

static void quicksort(int32_t *a, long lo, long hi)
{
  while (hi - lo > 16) {
    long mid = lo + (hi - lo) / 2;
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    int32_t pivot = a[mid];
    long i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) swap(a, i++, j--);
    }
    if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; }
    else { quicksort(a, i, hi); hi = j; }
  }
  insertion(a, lo, hi);
}

static void sift(int32_t *a, long root, long n)
{
  for (;;) {
    long child = 2 * root + 1;
    if (child >= n) return;
    if (child + 1 < n && a[child + 1] > a[child]) child++;
    if (a[root] >= a[child]) return;
    swap(a, root, child);
    root = child;
  }
}

static void heapsort(int32_t *a, long n)
{
  for (long i = n / 2 - 1; i >= 0; i--) sift(a, i, n);
  for (long end = n - 1; end > 0; end--) {
    swap(a, 0, end);
    sift(a, 0, end);
  }
}

static uint32_t digest(const int32_t *a, long n)
{
  uint32_t h = 0;
  for (long i = 0; i < n; i++) h = h * 2654435761u + (uint32_t) a[i];
  return h;
}

int main(int argc, char **argv)
{
  int scale = argc > 1 ? atoi(argv[1]) : DEFAULT_SCALE;
  static int32_t a[N], b[N];
  uint32_t x = 42, hq = 0, hh = 0;
  int sorted = 1;
  for (int r = 0; r < 2 * scale; r++) {
    for (long i = 0; i < N; i++) {
      x ^= x << 13; x ^= x >> 17; x ^= x << 5;
      a[i] = b[i] = (int32_t) (x % 1000000) - 500000;
    }
    quicksort(a, 0, N - 1);
    heapsort(b, N);
    for (long i = 1; i < N; i++)
      if (a[i - 1] > a[i] || a[i] != b[i]) sorted = 0;
    hq ^= digest(a, N) + (uint32_t) r;
    hh ^= digest(b, N) + (uint32_t) r;
  }
  printf("sorted=%d quick=%08x heap=%08x\n", sorted, hq, hh);
  return 0;
}
