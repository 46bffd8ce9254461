/* manyfiles.c - directory listing at scale: creates argv[1] files with long
 * names in /data/many, lists the directory (many fd_readdir calls, entries
 * cut at buffer ends, resumed from cookies), checks every name is seen
 * exactly once, then rewinds and lists again, and removes them all. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_FMT "file-%04d-with-a-rather-long-name-to-fill-readdir-buffers-quickly-%0*d"

static void name_of(int i, char *buf, size_t n)
{
  snprintf(buf, n, NAME_FMT, i, i % 50 + 1, 0);
}

static int list(int n, unsigned char *seen)
{
  memset(seen, 0, (size_t) n);
  DIR *d = opendir("/data/many");
  if (d == NULL)
    return -1;
  int total = 0, bad = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    int i;
    char expect[256];
    if (sscanf(e->d_name, "file-%d-", &i) != 1 || i < 0 || i >= n) { bad++; continue; }
    name_of(i, expect, sizeof expect);
    if (strcmp(expect, e->d_name) != 0 || e->d_type != DT_REG) { bad++; continue; }
    seen[i]++;
    total++;
  }
  closedir(d);
  for (int i = 0; i < n; i++)
    if (seen[i] != 1) bad++;
  return bad ? -bad : total;
}

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 400;
  unsigned char *seen = malloc((size_t) n);
  char name[512];
  if (mkdir("/data/many", 0755) != 0) { perror("mkdir"); return 1; }
  for (int i = 0; i < n; i++) {
    char leaf[256];
    name_of(i, leaf, sizeof leaf);
    snprintf(name, sizeof name, "/data/many/%s", leaf);
    int fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) { perror(name); return 1; }
    close(fd);
  }
  int first = list(n, seen);
  int second = list(n, seen);
  printf("listed %d then %d of %d\n", first, second, n);
  for (int i = 0; i < n; i++) {
    char leaf[256];
    name_of(i, leaf, sizeof leaf);
    snprintf(name, sizeof name, "/data/many/%s", leaf);
    if (unlink(name) != 0) { perror(name); return 1; }
  }
  if (rmdir("/data/many") != 0) { perror("rmdir"); return 1; }
  free(seen);
  return first == n && second == n ? 0 : 1;
}
