/* cat.c - prints each file named on the command line, or "NAME: error"
 * when it cannot be opened; exits with the number of failures. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
  int failures = 0;
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "r");
    if (f == NULL) {
      printf("%s: %s\n", argv[i], strerror(errno));
      failures++;
      continue;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
      fwrite(buf, 1, n, stdout);
    fclose(f);
  }
  return failures;
}
