/* escape.c - tries to leave the preopen mounted at /data in every way a
 * path can: `..`, absolute host paths, a symlink pointing out (planted by
 * the test), a symlink chain, and `..` after a subdirectory.  Each attempt
 * must fail; the program prints "ESCAPED <what>" for any that succeeds and
 * exits 1, else prints "contained N" and exits 0. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int escaped, attempts;

static void try_open(const char *path, int flags)
{
  attempts++;
  errno = 0;
  int fd = open(path, flags, 0644);
  if (fd >= 0) {
    char buf[128] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    printf("ESCAPED open %s (read %zd: %.40s)\n", path, n, buf);
    escaped++;
    close(fd);
  } else {
    printf("denied open %s: %s\n", path, strerror(errno));
  }
}

static void try_stat(const char *path)
{
  struct stat st;
  attempts++;
  if (stat(path, &st) == 0) {
    printf("ESCAPED stat %s\n", path);
    escaped++;
  } else {
    printf("denied stat %s: %s\n", path, strerror(errno));
  }
}

static void try_opendir(const char *path)
{
  attempts++;
  DIR *d = opendir(path);
  if (d) {
    printf("ESCAPED opendir %s\n", path);
    escaped++;
    closedir(d);
  } else {
    printf("denied opendir %s: %s\n", path, strerror(errno));
  }
}

int main(int argc, char **argv)
{
  const char *secret = argc > 1 ? argv[1] : "/etc/passwd";
  char buf[512];

  try_open("/data/../secret.txt", O_RDONLY);
  try_open("/data/sub/../../secret.txt", O_RDONLY);
  try_open("/data/../../../../../../etc/passwd", O_RDONLY);
  try_open(secret, O_RDONLY);
  try_open("/etc/passwd", O_RDONLY);
  try_open("/data/link_out", O_RDONLY);             /* symlink -> ../secret.txt */
  try_open("/data/link_abs", O_RDONLY);             /* symlink -> absolute host path */
  try_open("/data/link_chain", O_RDONLY);           /* symlink -> link_out */
  try_open("/data/link_dir/secret.txt", O_RDONLY);  /* symlink to the parent dir */
  try_open("/data/link_dir/../secret.txt", O_RDONLY);
  try_open("/data/../escape_created.txt", O_WRONLY | O_CREAT);
  try_open("/data/link_dir/escape_created.txt", O_WRONLY | O_CREAT);
  try_stat("/data/..");
  try_stat("/data/link_dir/secret.txt");
  try_opendir("/data/..");
  try_opendir("/data/link_dir");
  snprintf(buf, sizeof buf, "/data/..%s", secret);
  try_open(buf, O_RDONLY);

  attempts++;
  if (mkdir("/data/../escape_dir", 0755) == 0) { printf("ESCAPED mkdir\n"); escaped++; }
  attempts++;
  if (rename("/data/inside.txt", "/data/../moved_out.txt") == 0) { printf("ESCAPED rename\n"); escaped++; }
  attempts++;
  if (unlink("/data/../secret.txt") == 0) { printf("ESCAPED unlink\n"); escaped++; }
  attempts++;
  if (symlink("/etc/passwd", "/data/new_link") == 0) {
    /* Creating a link is allowed by some runtimes; following it must not be. */
    attempts--;
    try_open("/data/new_link", O_RDONLY);
  }

  /* Staying inside must still work: `..` that does not leave is fine. */
  int fd = open("/data/sub/../inside.txt", O_RDONLY);
  printf("inside via ..: %s\n", fd >= 0 ? "ok" : strerror(errno));
  if (fd >= 0) close(fd);

  if (escaped) {
    printf("escaped %d of %d\n", escaped, attempts);
    return 1;
  }
  printf("contained %d\n", attempts);
  return fd >= 0 ? 0 : 2;
}
