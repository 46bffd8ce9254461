/* stdin_echo.c - reads stdin to EOF (fd_read on fd 0) and prints the byte
 * count and a checksum, then writes a line to stderr. */
#include <stdio.h>

int main(void)
{
  unsigned long long n = 0, sum = 0;
  int c;
  while ((c = getchar()) != EOF) {
    n++;
    sum = sum * 31 + (unsigned char) c;
  }
  printf("bytes=%llu sum=%llu\n", n, sum);
  fprintf(stderr, "to stderr\n");
  return 0;
}
