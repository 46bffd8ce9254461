/* random.c - random_get: two 64-byte draws are not all zero and differ. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
  unsigned char a[64], b[64], zero[64] = {0};
  if (getentropy(a, sizeof a) != 0 || getentropy(b, sizeof b) != 0) {
    printf("getentropy failed\n");
    return 1;
  }
  int differ = memcmp(a, b, sizeof a) != 0;
  int nonzero = memcmp(a, zero, sizeof a) != 0;
  unsigned set = 0;
  for (size_t i = 0; i < sizeof a; i++)
    set += (unsigned) __builtin_popcount(a[i]);
  printf("differ=%d nonzero=%d plausible=%d\n", differ, nonzero, set > 128 && set < 384);
  return differ && nonzero ? 0 : 1;
}
