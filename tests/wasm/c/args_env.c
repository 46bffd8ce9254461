/* args_env.c - prints argc/argv and the environment it was given, so the
 * test can check args_* and environ_* round-trip exactly. */
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(int argc, char **argv)
{
  printf("argc=%d\n", argc);
  for (int i = 0; i < argc; i++)
    printf("argv[%d]=%s\n", i, argv[i]);
  for (char **e = environ; *e; e++)
    printf("env:%s\n", *e);
  const char *v = getenv("EDGECR_TEST");
  printf("getenv=%s\n", v ? v : "(null)");
  return 0;
}
