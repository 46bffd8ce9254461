/* bigmem.c - allocates tens of MB (argv[1] MB, default 48) with malloc,
 * touches every byte and prints a checksum, then frees and reallocates. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
  size_t mb = argc > 1 ? (size_t) atoi(argv[1]) : 48;
  size_t n = mb << 20;
  uint8_t *p = malloc(n);
  if (p == NULL) {
    printf("malloc(%zu MB) failed\n", mb);
    return 3;
  }
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t) (i * 7 + (i >> 12));
  uint32_t sum = 0;
  for (size_t i = 0; i < n; i += 64)
    sum = sum * 33 + p[i];
  printf("allocated %zu MB sum=%u\n", mb, sum);
  free(p);
  void *q = calloc(4, 1 << 20);
  printf("calloc again: %s\n", q ? "ok" : "failed");
  free(q);
  return 0;
}
