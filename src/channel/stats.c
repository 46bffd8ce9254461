/* stats.c - a channel's counters for `edgecr monitor`, read from its files
 * (no mapping, so a monitor can never change a channel): messages sent and
 * sends refused because the queue was full (the writer's header), and per
 * reader what it received, lost to overwrites, has still waiting and the
 * highest fill it found (its page). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chanlib.h"
#include "util.h"

static int read_reader(int dfd, uint32_t i, struct edgecr_channel_reader_stats *r)
{
  char file[32];
  snprintf(file, sizeof file, "reader.%u", i);
  cleanup_close int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC);
  struct echan_reader page;
  if (fd < 0 || pread(fd, &page, sizeof page, 0) != (ssize_t)sizeof page)
    return -1;
  r->pos = page.pos;
  r->lost = page.lost;
  r->received = page.received;
  r->max_fill = page.max_fill;
  return 0;
}

int edgecr_channel_stats_read(const char *dir, const char *name, struct edgecr_channel_stats *s, edgecr_error_t *err)
{
  memset(s, 0, sizeof *s);
  if (edgecr_channel_validate(dir, name, err) < 0)
    return -1;
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  cleanup_close int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int fd = dfd < 0 ? -1 : openat(dfd, "data", O_RDONLY | O_CLOEXEC);
  struct echan_hdr h;
  if (fd < 0 || pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
    return edgecr_error_make(err, errno, "channel `%s`: read %s/data", name, path);
  snprintf(s->name, sizeof s->name, "%s", name);
  s->kind = h.kind;
  s->msg_size = h.msg_size;
  s->depth = h.depth;
  s->readers = h.readers;
  s->full_policy = h.full_policy;
  s->sent = h.head;
  s->full_fails = h.full_fails;
  s->max_fill = h.max_fill;
  for (uint32_t i = 0; i < h.readers; i++) {
    struct edgecr_channel_reader_stats *r = &s->reader[i];
    if (read_reader(dfd, i, r) < 0)
      return edgecr_error_make(err, errno, "channel `%s`: read %s/reader.%u", name, path, i);
    r->pending = h.kind == ECHAN_FIFO && r->pos < s->sent ? s->sent - r->pos : 0;
    if (r->pending > h.depth)
      r->pending = h.depth;
    if (h.kind == ECHAN_FIFO && r->max_fill > s->max_fill)
      s->max_fill = r->max_fill;
    if (h.kind == ECHAN_FIFO && r->pending > s->max_fill)
      s->max_fill = r->pending;
  }
  return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int edgecr_channel_stats_scan(const char *dir, const char *only, struct edgecr_channel_stats **out, size_t *n,
                              edgecr_error_t *err)
{
  *out = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : edgecr_error_make(err, errno, "channels: open `%s`", dir);
  char **names = NULL;
  size_t k = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || (only && strcmp(de->d_name, only) != 0))
      continue;
    names = xrealloc(names, (k + 1) * sizeof *names);
    names[k++] = xstrdup(de->d_name);
  }
  closedir(d);
  if (k)
    qsort(names, k, sizeof *names, cmp_str);
  struct edgecr_channel_stats *s = xmalloc0((k + 1) * sizeof *s);
  for (size_t i = 0; i < k; i++) {
    edgecr_error_t e = NULL; /* a channel being made or removed right now is skipped */
    if (edgecr_channel_stats_read(dir, names[i], &s[*n], &e) == 0)
      (*n)++;
    edgecr_error_release(&e);
    free(names[i]);
  }
  free(names);
  *out = s;
  return 0;
}

json_t *edgecr_channel_stats_json(const struct edgecr_channel_stats *s)
{
  bool fifo = s->kind == ECHAN_FIFO;
  json_t *readers = json_array();
  for (uint32_t i = 0; i < s->readers; i++) {
    const struct edgecr_channel_reader_stats *r = &s->reader[i];
    json_t *o = json_pack("{s:I, s:I, s:I}", "index", (json_int_t)i, "received", (json_int_t)r->received, "lost",
                          (json_int_t)r->lost);
    json_object_set_new(o, "pending", fifo ? json_integer((json_int_t)r->pending) : json_null());
    json_object_set_new(o, "max_fill", fifo ? json_integer((json_int_t)r->max_fill) : json_null());
    json_array_append_new(readers, o);
  }
  json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "name", s->name, "kind", fifo ? "fifo" : "latest",
                        "message_size", (json_int_t)s->msg_size, "depth", (json_int_t)s->depth, "sent",
                        (json_int_t)s->sent, "full_fails", (json_int_t)s->full_fails);
  json_object_set_new(o, "max_fill", fifo ? json_integer((json_int_t)s->max_fill) : json_null());
  json_object_set_new(o, "readers", readers);
  return o;
}

void edgecr_channel_stats_text(FILE *out, const struct edgecr_channel_stats *s, size_t n)
{
  if (n == 0)
    return;
  fprintf(out, "%-24s %-6s %8s %6s %12s %10s %12s\n", "CHANNEL", "KIND", "MSG_SIZE", "DEPTH", "SENT", "FULL",
          "HIGHEST_FILL");
  for (size_t i = 0; i < n; i++) {
    bool fifo = s[i].kind == ECHAN_FIFO;
    char fill[32] = "-";
    if (fifo)
      snprintf(fill, sizeof fill, "%llu/%u", (unsigned long long)s[i].max_fill, s[i].depth);
    fprintf(out, "%-24s %-6s %8u %6u %12llu %10llu %12s\n", s[i].name, fifo ? "fifo" : "latest", s[i].msg_size,
            s[i].depth, (unsigned long long)s[i].sent, (unsigned long long)s[i].full_fails, fill);
    for (uint32_t k = 0; k < s[i].readers; k++) {
      const struct edgecr_channel_reader_stats *r = &s[i].reader[k];
      fprintf(out, "  reader %-3u received %llu, lost %llu", k, (unsigned long long)r->received,
              (unsigned long long)r->lost);
      if (fifo)
        fprintf(out, ", waiting %llu, highest fill %llu", (unsigned long long)r->pending,
                (unsigned long long)r->max_fill);
      fputc('\n', out);
    }
  }
}
