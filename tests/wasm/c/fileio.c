/* fileio.c - file I/O inside the preopen mounted at /data: create a
 * directory, write a file, read it back, seek/tell, stat it, list the
 * directory, rename, unlink, rmdir.  Prints one line per step; the test
 * also checks the files on the host side. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what)
{
  printf("%s: %s\n", what, ok ? "ok" : "FAIL");
  if (!ok) {
    printf("  errno=%d (%s)\n", errno, strerror(errno));
    failures++;
  }
}

int main(void)
{
  check(mkdir("/data/sub", 0755) == 0, "mkdir");

  FILE *f = fopen("/data/sub/note.txt", "w");
  check(f != NULL, "fopen-w");
  if (f) {
    for (int i = 0; i < 1000; i++)
      fprintf(f, "line %d\n", i);
    check(fclose(f) == 0, "fclose-w");
  }

  f = fopen("/data/sub/note.txt", "r");
  check(f != NULL, "fopen-r");
  if (f) {
    char line[64];
    int n = 0, last = -1;
    while (fgets(line, sizeof line, f)) {
      sscanf(line, "line %d", &last);
      n++;
    }
    check(n == 1000 && last == 999, "read-back");
    check(fseek(f, 5, SEEK_SET) == 0 && ftell(f) == 5, "seek-tell");
    check(fgetc(f) == '0', "read-after-seek");
    fclose(f);
  }

  struct stat st;
  check(stat("/data/sub/note.txt", &st) == 0, "stat");
  printf("size=%lld regular=%d\n", (long long) st.st_size, S_ISREG(st.st_mode) ? 1 : 0);
  check(stat("/data/sub", &st) == 0 && S_ISDIR(st.st_mode), "stat-dir");

  int fd = open("/data/sub/second.bin", O_WRONLY | O_CREAT | O_EXCL, 0644);
  check(fd >= 0, "open-excl");
  check(write(fd, "abc", 3) == 3, "write");
  check(fstat(fd, &st) == 0 && st.st_size == 3, "fstat");
  close(fd);
  errno = 0;
  check(open("/data/sub/second.bin", O_WRONLY | O_CREAT | O_EXCL, 0644) < 0 && errno == EEXIST,
        "open-excl-exists");
  errno = 0;
  check(open("/data/missing/x", O_RDONLY) < 0 && errno == ENOENT, "enoent");

  DIR *d = opendir("/data/sub");
  check(d != NULL, "opendir");
  int seen_note = 0, seen_second = 0, entries = 0;
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      entries++;
      if (strcmp(e->d_name, "note.txt") == 0) seen_note = 1;
      if (strcmp(e->d_name, "second.bin") == 0) seen_second = 1;
    }
    closedir(d);
  }
  check(seen_note && seen_second, "readdir");
  printf("entries=%d\n", entries);

  check(rename("/data/sub/second.bin", "/data/sub/third.bin") == 0, "rename");
  check(access("/data/sub/third.bin", F_OK) == 0 && access("/data/sub/second.bin", F_OK) != 0,
        "rename-visible");
  check(unlink("/data/sub/third.bin") == 0, "unlink");
  check(mkdir("/data/sub/empty", 0755) == 0, "mkdir2");
  check(rmdir("/data/sub/empty") == 0, "rmdir");
  errno = 0;
  check(rmdir("/data/sub") != 0 && errno == ENOTEMPTY, "rmdir-notempty");

  /* The file the test put on the host side before running us. */
  f = fopen("/data/from_host.txt", "r");
  check(f != NULL, "host-file");
  if (f) {
    char buf[64] = {0};
    fgets(buf, sizeof buf, f);
    printf("host says: %s", buf);
    fclose(f);
  }
  printf("failures=%d\n", failures);
  return failures ? 1 : 0;
}
