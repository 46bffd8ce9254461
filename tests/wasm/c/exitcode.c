/* exitcode.c - exits with the code given as argv[1] (through exit(), which
 * becomes proc_exit), or returns 7 from main without an argument. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
  if (argc > 1) {
    printf("exiting with %s\n", argv[1]);
    fflush(stdout);
    exit(atoi(argv[1]));
  }
  return 7;
}
