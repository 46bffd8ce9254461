/* recursion.c - deep recursion.  `depth N` recurses N levels (the result
 * depends on every level, so the compiler cannot flatten it); `forever`
 * recurses without bound, which must end in a stack-exhaustion trap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static unsigned long long down(unsigned n, unsigned long long acc)
{
  if (n == 0)
    return acc;
  unsigned long long r = down(n - 1, acc * 31 + n);
  return r ^ (n * 0x9e3779b97f4a7c15ull);
}

__attribute__((noinline)) static int ackermann(int m, int n)
{
  if (m == 0) return n + 1;
  if (n == 0) return ackermann(m - 1, 1);
  return ackermann(m - 1, ackermann(m, n - 1));
}

/* Called through a volatile pointer so the compiler cannot turn the
 * recursion into a loop (LLVM eliminates accumulator recursion). */
volatile int sink;
static int forever(int n);
static int (*volatile again)(int) = forever;
__attribute__((noinline)) static int forever(int n)
{
  sink = n;
  return again(n + 1) + sink;
}

int main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "forever") == 0)
    return forever(0);
  unsigned depth = argc > 2 ? (unsigned) atoi(argv[2]) : 20000;
  printf("down(%u)=%llu\n", depth, down(depth, 1));
  printf("ackermann(2,3)=%d ackermann(3,5)=%d\n", ackermann(2, 3), ackermann(3, 5));
  return 0;
}
