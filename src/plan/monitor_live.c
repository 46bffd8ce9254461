/* monitor_live.c - is a page's writer alive?  The pid in the page is the
 * writer's own getpid(): inside a container that is its pid in the
 * container's pid namespace (often 1), which on the host names another
 * process (init), so `kill(pid, 0)` said "running" long after the
 * container was gone.  The writer is alive exactly when some process has
 * the page file mapped shared and writable: the mapping names the file by
 * device and inode (/proc/PID/maps), which no pid reuse or namespace can
 * fake, and the bind mount into a container keeps both.  The recorded pid
 * is tried first (a writer in our own pid namespace), then every process
 * once per scan. */
#include "monitor.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "util.h"

/* Does pid map (dev, ino) shared and writable? */
static bool maps_page(pid_t pid, dev_t dev, ino_t ino)
{
  char path[64], line[512];
  snprintf(path, sizeof path, "/proc/%d/maps", (int) pid);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return false;
  bool found = false;
  while (!found && fgets(line, sizeof line, f)) {
    char perms[8];
    unsigned maj, min;
    unsigned long long inode;
    if (sscanf(line, "%*s %7s %*s %x:%x %llu", perms, &maj, &min, &inode) == 4)
      found = inode == (unsigned long long) ino && makedev(maj, min) == dev && perms[1] == 'w' && perms[3] == 's';
    /* the rest of an over-long line is not a new entry */
    while (strchr(line, '\n') == NULL && fgets(line, sizeof line, f))
      ;
  }
  fclose(f);
  return found;
}

static pid_t find_writer(dev_t dev, ino_t ino)
{
  DIR *d = opendir("/proc");
  if (d == NULL)
    return 0;
  pid_t found = 0;
  for (struct dirent *e; found == 0 && (e = readdir(d));) {
    if (!isdigit((unsigned char) e->d_name[0]))
      continue;
    pid_t pid = (pid_t) atoi(e->d_name);
    if (maps_page(pid, dev, ino))
      found = pid;
  }
  closedir(d);
  return found;
}

void plan_monitor_liveness(struct plan_monitor *m, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    m[i].writer_alive = false;
    m[i].writer_host_pid = 0;
    if (m[i].page.pid <= 0 || stat(m[i].path, &st) < 0)
      continue; /* no writer ever claimed it */
    pid_t pid = maps_page(m[i].page.pid, st.st_dev, st.st_ino) ? m[i].page.pid : find_writer(st.st_dev, st.st_ino);
    m[i].writer_alive = pid > 0;
    m[i].writer_host_pid = pid;
  }
}
