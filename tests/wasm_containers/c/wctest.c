/* wctest.c - the WebAssembly container test program (tests/wasm_containers):
 * one module, its behaviour chosen by argv[1], so that one image serves
 * every case of the suite.
 *   echo ARGS...   print argc/argv, the environment and the cwd
 *   exit N         print a line and exit with N
 *   trap           print a line and execute `unreachable`
 *   spin           print "spinning" and loop forever (for signals)
 *   sleep MS       print "sleeping", sleep, print "woke"
 *   cat PATH       print a file of the container
 *   write PATH T   write T to PATH (inside the container)
 *   alloc MB       grow memory by MB megabytes, print "allocated N"
 *   tty            print whether stdin/stdout are terminals
 *   read           print "reading", count the bytes of stdin until EOF
 *   preopens       print the name of every preopened directory (fd 3 on) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

extern char **environ;

static int preopens(void)
{
  for (__wasi_fd_t fd = 3;; fd++) {
    __wasi_prestat_t ps;
    if (__wasi_fd_prestat_get(fd, &ps) != 0)
      return 0;
    char name[256];
    size_t n = ps.u.dir.pr_name_len < sizeof name - 1 ? ps.u.dir.pr_name_len : sizeof name - 1;
    if (__wasi_fd_prestat_dir_name(fd, (uint8_t *) name, n) != 0)
      return 2;
    name[n] = 0;
    printf("preopen %s\n", name);
  }
}

static int cat(const char *path)
{
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    perror(path);
    return 2;
  }
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    fwrite(buf, 1, n, stdout);
  fclose(f);
  return 0;
}

int main(int argc, char **argv)
{
  const char *what = argc > 1 ? argv[1] : "echo";
  if (strcmp(what, "echo") == 0) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
      printf("argv[%d]=%s\n", i, argv[i]);
    for (char **e = environ; *e; e++)
      printf("env:%s\n", *e);
    return 0;
  }
  if (strcmp(what, "exit") == 0 && argc > 2) {
    printf("exiting with %s\n", argv[2]);
    fflush(stdout);
    exit(atoi(argv[2]));
  }
  if (strcmp(what, "preopens") == 0)
    return preopens();
  if (strcmp(what, "trap") == 0) {
    printf("about to trap\n");
    fflush(stdout);
    __builtin_trap();
  }
  if (strcmp(what, "spin") == 0) {
    printf("spinning\n");
    fflush(stdout);
    volatile unsigned long n = 0;
    for (;;)
      n++;
  }
  if (strcmp(what, "sleep") == 0 && argc > 2) {
    printf("sleeping\n");
    fflush(stdout);
    struct timespec ts = {atoi(argv[2]) / 1000, (atoi(argv[2]) % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    printf("woke\n");
    return 0;
  }
  if (strcmp(what, "cat") == 0 && argc > 2)
    return cat(argv[2]);
  if (strcmp(what, "write") == 0 && argc > 3) {
    FILE *f = fopen(argv[2], "w");
    if (f == NULL) {
      perror(argv[2]);
      return 2;
    }
    fputs(argv[3], f);
    return fclose(f) == 0 ? 0 : 3;
  }
  if (strcmp(what, "alloc") == 0 && argc > 2) {
    size_t mb = (size_t) atoi(argv[2]);
    char *p = malloc(mb << 20);
    if (p == NULL) {
      printf("allocation of %zu MB failed\n", mb);
      return 4;
    }
    memset(p, 1, mb << 20);
    /* the result is used, so the compiler keeps the allocation */
    printf("allocated %zu (last byte %d)\n", mb, p[(mb << 20) - 1]);
    free(p);
    return 0;
  }
  if (strcmp(what, "tty") == 0) {
    printf("stdin tty=%d stdout tty=%d\n", isatty(0), isatty(1));
    return 0;
  }
  if (strcmp(what, "read") == 0) {
    printf("reading\n");
    fflush(stdout);
    char buf[256];
    size_t total = 0, n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
      total += n;
    printf("read %zu bytes\n", total);
    return 0;
  }
  fprintf(stderr, "wctest: unknown command `%s`\n", what);
  return 64;
}
