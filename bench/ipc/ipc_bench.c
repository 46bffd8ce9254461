/* ipc_bench.c - round trip of 64-byte messages between two processes
 * pinned to different cores: edgecr channels (polling and blocking) side
 * by side with the anchors: a pipe, a Unix socket, ZeroMQ ipc (when built
 * with libzmq), iceoryx (when built with its C binding and a RouDi daemon
 * runs).  Prints p50/p99/p99.9/max per transport and the steal time of the
 * run.  A benchmark, never a test: bench/ipc/run.sh runs it.
 *
 *   ipc_bench [ROUND_TRIPS] [TRANSPORT...]   (default 100000, all)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chanlib.h"
#include "util.h"
#ifdef HAVE_ZMQ
#include <zmq.h>
#endif
#ifdef HAVE_ICEORYX
#include <iceoryx_binding_c/publisher.h>
#include <iceoryx_binding_c/runtime.h>
#include <iceoryx_binding_c/subscriber.h>
#include <iceoryx_binding_c/wait_set.h>
#endif

#define MSG 64
static int cpu_a = 0, cpu_b = 1;
static char workdir[] = "/tmp/edgecr-ipc-bench-XXXXXX";

static void pin(int cpu)
{
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  sched_setaffinity(0, sizeof s, &s);
}

static uint64_t ns(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* A transport: the echo side (child) and one round trip (parent). */
struct transport {
  const char *name;
  int (*setup)(void);        /* before fork; 0 ok, <0 skip */
  void (*echo)(uint64_t n);  /* child: echo n messages */
  void (*open)(void);        /* parent, after fork */
  void (*rt)(unsigned char *m);
};

/* ---- edgecr channels ---- */
static struct echan ch_tx, ch_rx;
static int ch_block;
static int chan_setup_mode(uint32_t wait)
{
  edgecr_error_t err = NULL;
  const char *names[2] = {"ping", "pong"};
  for (int i = 0; i < 2; i++) {
    edgecr_channel_remove(workdir, names[i], &err);
    struct edgecr_channel_decl d = {.kind = ECHAN_FIFO, .msg_size = MSG, .depth = 4, .writers = 1, .readers = 1,
                                    .wait_mode = wait, .full_policy = ECHAN_FULL_FAIL};
    strcpy(d.name, names[i]);
    if (edgecr_channel_create(workdir, &d, &err) < 0) {
      fprintf(stderr, "%s\n", err->msg);
      return -1;
    }
  }
  ch_block = wait == ECHAN_WAIT_FUTEX;
  return 0;
}
static int chan_poll_setup(void) { return chan_setup_mode(ECHAN_WAIT_POLL); }
static int chan_futex_setup(void) { return chan_setup_mode(ECHAN_WAIT_FUTEX); }
static int chan_dir(const char *n)
{
  char p[256];
  snprintf(p, sizeof p, "%s/%s", workdir, n);
  return open(p, O_RDONLY | O_DIRECTORY);
}
static void chan_recv(struct echan *c, unsigned char *m)
{
  while (!echan_recv_fifo(c, m, NULL))
    if (ch_block)
      echan_wait(c, -1);
}
static void chan_echo(uint64_t n)
{
  struct echan tx, rx;
  if (echan_attach_reader(&rx, chan_dir("ping"), 0) < 0 || echan_attach_writer(&tx, chan_dir("pong")) < 0)
    _exit(3);
  unsigned char m[MSG];
  for (uint64_t i = 0; i < n; i++) {
    chan_recv(&rx, m);
    echan_send(&tx, m);
  }
}
static void chan_open(void)
{
  if (echan_attach_writer(&ch_tx, chan_dir("ping")) < 0 || echan_attach_reader(&ch_rx, chan_dir("pong"), 0) < 0)
    exit(3);
}
static void chan_rt(unsigned char *m)
{
  echan_send(&ch_tx, m);
  chan_recv(&ch_rx, m);
}

/* ---- pipe and Unix socket: fds made before the fork ---- */
static int fa[2], fb[2]; /* parent writes fa[1], child reads fa[0]; back on fb */
static int pipe_setup(void) { return pipe(fa) || pipe(fb) ? -1 : 0; }
static int unix_setup(void)
{
  int s[2], t[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) || socketpair(AF_UNIX, SOCK_STREAM, 0, t))
    return -1;
  fa[0] = s[0], fa[1] = s[1], fb[0] = t[0], fb[1] = t[1];
  return 0;
}
static void fd_echo(uint64_t n)
{
  unsigned char m[MSG];
  for (uint64_t i = 0; i < n; i++)
    if (read_full(fa[0], m, MSG) != MSG || write_all(fb[1], m, MSG) < 0)
      _exit(3);
}
static void fd_open(void) {}
static void fd_rt(unsigned char *m)
{
  if (write_all(fa[1], m, MSG) < 0 || read_full(fb[0], m, MSG) != MSG)
    exit(3);
}

#ifdef HAVE_ZMQ
/* ---- ZeroMQ PAIR sockets over ipc:// (contexts made after the fork) ---- */
static void *zctx, *zs;
static char zurl[256];
static int zmq_setup(void)
{
  snprintf(zurl, sizeof zurl, "ipc://%s/zmq.sock", workdir);
  return 0;
}
static void zmq_echo(uint64_t n)
{
  void *c = zmq_ctx_new(), *s = zmq_socket(c, ZMQ_PAIR);
  if (zmq_connect(s, zurl) != 0)
    _exit(3);
  unsigned char m[MSG];
  for (uint64_t i = 0; i < n; i++)
    if (zmq_recv(s, m, MSG, 0) != MSG || zmq_send(s, m, MSG, 0) != MSG)
      _exit(3);
  zmq_close(s);
  zmq_ctx_term(c);
}
static void zmq_open_(void)
{
  zctx = zmq_ctx_new();
  zs = zmq_socket(zctx, ZMQ_PAIR);
  if (zmq_bind(zs, zurl) != 0)
    exit(3);
}
static void zmq_rt(unsigned char *m)
{
  if (zmq_send(zs, m, MSG, 0) != MSG || zmq_recv(zs, m, MSG, 0) != MSG)
    exit(3);
}
#endif

#ifdef HAVE_ICEORYX
#include "iox_transport.inc"
#endif

static int cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* steal, idle and total jiffies of all CPUs, from /proc/stat */
static unsigned long long idle_ticks;
static void cpu_ticks(unsigned long long *steal, unsigned long long *total)
{
  unsigned long long v[10] = {0};
  FILE *f = fopen("/proc/stat", "r");
  if (f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
                  &v[5], &v[6], &v[7], &v[8], &v[9]) >= 8) {
    *steal = v[7];
    idle_ticks = v[3] + v[4];
    *total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
  }
  if (f)
    fclose(f);
}

static void measure(const struct transport *t, uint64_t n)
{
  if (t->setup() < 0) {
    printf("%-12s skipped (not available here)\n", t->name);
    return;
  }
  uint64_t warm = n / 10 + 100, total = warm + n;
  pid_t pid = fork();
  if (pid == 0) {
    pin(cpu_b);
    t->echo(total);
    _exit(0);
  }
  pin(cpu_a);
  t->open();
  uint64_t *lat = xmalloc0(n * sizeof *lat);
  unsigned char m[MSG] = {1};
  for (uint64_t i = 0; i < total; i++) {
    uint64_t t0 = ns();
    t->rt(m);
    if (i >= warm)
      lat[i - warm] = ns() - t0;
  }
  int st = 0;
  waitpid(pid, &st, 0);
  qsort(lat, n, sizeof *lat, cmp_u64);
  printf("%-12s %9.2f %9.2f %9.2f %10.2f   (%" PRIu64 " round trips)%s\n", t->name, lat[n / 2] / 1e3,
         lat[n * 99 / 100] / 1e3, lat[n * 999 / 1000] / 1e3, lat[n - 1] / 1e3, n,
         WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "" : "  ECHO FAILED");
  free(lat);
  if (fa[0] > 0) {
    close(fa[0]), close(fa[1]), close(fb[0]), close(fb[1]);
    fa[0] = fa[1] = fb[0] = fb[1] = -1;
  }
}

int main(int argc, char **argv)
{
  static const struct transport all[] = {
      {"chan-poll", chan_poll_setup, chan_echo, chan_open, chan_rt},
      {"chan-futex", chan_futex_setup, chan_echo, chan_open, chan_rt},
      {"pipe", pipe_setup, fd_echo, fd_open, fd_rt},
      {"unix", unix_setup, fd_echo, fd_open, fd_rt},
#ifdef HAVE_ZMQ
      {"zmq-ipc", zmq_setup, zmq_echo, zmq_open_, zmq_rt},
#endif
#ifdef HAVE_ICEORYX
      {"iceoryx-poll", iox_setup_poll, iox_echo_poll, iox_open, iox_rt_poll},
      {"iceoryx-wait", iox_setup_wait, iox_echo_wait, iox_open, iox_rt_wait},
#endif
  };
#ifdef HAVE_ICEORYX
  if (argc == 4 && strcmp(argv[1], "--iox-echo") == 0)
    return iox_echo_main(argv[2], strtoull(argv[3], NULL, 0));
#endif
  uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 100000;
  cpu_set_t s;
  sched_getaffinity(0, sizeof s, &s);
  if (CPU_COUNT(&s) < 2)
    cpu_b = 0, fprintf(stderr, "ipc_bench: one CPU only: both ends share it\n");
  else {
    int found = 0; /* the first two CPUs this process may use */
    for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
      if (CPU_ISSET(c, &s))
        *(found++ ? &cpu_b : &cpu_a) = c;
  }
  if (!mkdtemp(workdir))
    return 1;
  fa[0] = fa[1] = fb[0] = fb[1] = -1;
  unsigned long long st0 = 0, tot0 = 0, st1 = 0, tot1 = 0;
  cpu_ticks(&st0, &tot0);
  unsigned long long idle0 = idle_ticks;
  printf("64-byte round trips, CPUs %d <-> %d, microseconds\n", cpu_a, cpu_b);
  printf("%-12s %9s %9s %9s %10s\n", "transport", "p50", "p99", "p99.9", "max");
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    int want = argc <= 2;
    for (int a = 2; a < argc; a++)
      want |= strcmp(argv[a], all[i].name) == 0;
    if (want)
      measure(&all[i], n);
  }
  cpu_ticks(&st1, &tot1);
  /* The machine is shared: how busy it was (this benchmark included: its
   * polling ends keep two CPUs busy) says as much about the tails as steal. */
  double span = tot1 > tot0 ? (double)(tot1 - tot0) : 1.0;
  printf("steal: %llu of %llu jiffies (%.2f%%) during the run; CPUs busy %.0f%% of it\n", st1 - st0,
         tot1 - tot0, 100.0 * (double)(st1 - st0) / span, 100.0 * (1.0 - (double)(idle_ticks - idle0) / span));
  edgecr_error_t err = NULL;
  remove_tree(workdir, &err);
  return 0;
}
