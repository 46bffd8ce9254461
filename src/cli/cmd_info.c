/* cmd_info.c - `update` (cgroup resources), `events` (statistics), `spec`
 * (a default config.json) and `features` (what this runtime implements). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "lifecycle.h"
#include "log.h"
#include "util.h"
#include "wasm_backend.h"

/* "512m", "1g", "1024" -> bytes; -1 stays -1 (unlimited). */
static int parse_size(const char *s, long long *out)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || v < -1)
    return -1;
  double mul = 1;
  switch (tolower((unsigned char) *end)) {
  case '\0': break;
  case 'k': mul = 1024.0; end++; break;
  case 'm': mul = 1024.0 * 1024; end++; break;
  case 'g': mul = 1024.0 * 1024 * 1024; end++; break;
  case 't': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
  case 'b': end++; break;
  default: return -1;
  }
  if (*end == 'b' || *end == 'B')
    end++;
  if (*end != '\0')
    return -1;
  *out = (long long) (v * mul);
  return 0;
}

/* The schedule admission of update --metadata: `edgecr plan
 * admit-schedule ID FILE` (the plan analysis is in edgecr-plan), in a
 * child whose stderr is the reason. */
static int admit_schedule(void *data, const char *id, const char *file, char **why)
{
  struct edgecr_global *g = data;
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) < 0) {
    *why = xasprintf("cannot ask the plan analysis: pipe: %s", strerror(errno));
    return -1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0)
      dup2(null, STDOUT_FILENO);
    dup2(pfd[1], STDERR_FILENO);
    char *args[] = {"plan", "admit-schedule", (char *) id, (char *) file, NULL};
    optind = 0;
    _exit(cmd_plan(g, 4, args));
  }
  close(pfd[1]);
  char buf[2048];
  size_t n = 0;
  ssize_t r;
  while ((r = read(pfd[0], buf + n, sizeof buf - 1 - n)) > 0 || (r < 0 && errno == EINTR))
    n += r > 0 ? (size_t) r : 0;
  close(pfd[0]);
  buf[n] = '\0';
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) {
    *why = xasprintf("cannot ask the plan analysis: %s", strerror(errno));
    return -1;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = '\0';
  *why = xstrdup(n > 0 ? buf : "the plan analysis failed");
  return -1;
}

/* update --metadata: the WebAssembly backend verifies and delivers it. */
static int update_metadata(struct edgecr_global *g, const char *file, const char *id)
{
  struct lc_context ctx = {.state_root = g->root, .systemd_cgroup = g->systemd_cgroup};
  struct wb_tenant_update u = {.file = file, .wait_ms = 2000, .admit_schedule = admit_schedule, .admit_ctx = g};
  edgecr_error_t err = NULL;
  if (lc_with_container(&ctx, id, wb_tenant_update, &u, &err) < 0)
    return cli_fail(&err);
  if (u.answered)
    printf("tenant %s: version %llu applied\n", u.id, (unsigned long long) u.version);
  else
    printf("tenant %s: version %llu delivered; the tenant applies it at its next host call\n", u.id,
           (unsigned long long) u.version);
  return 0;
}

int cmd_update(struct edgecr_global *g, int argc, char **argv)
{
  enum { U_MEM = 256, U_MEMRES, U_SWAP, U_SHARES, U_QUOTA, U_PERIOD, U_RTRT, U_RTP, U_CPUS, U_MEMS, U_PIDS,
         U_BLKIO, U_KMEM, U_KTCP, U_L3, U_MBA, U_META };
  static const struct option opts[] = {
    {"resources", required_argument, NULL, 'r'}, {"memory", required_argument, NULL, U_MEM},
    {"memory-reservation", required_argument, NULL, U_MEMRES}, {"memory-swap", required_argument, NULL, U_SWAP},
    {"cpu-shares", required_argument, NULL, U_SHARES}, {"cpu-quota", required_argument, NULL, U_QUOTA},
    {"cpu-period", required_argument, NULL, U_PERIOD}, {"cpu-rt-runtime", required_argument, NULL, U_RTRT},
    {"cpu-rt-period", required_argument, NULL, U_RTP}, {"cpuset-cpus", required_argument, NULL, U_CPUS},
    {"cpuset-mems", required_argument, NULL, U_MEMS}, {"pids-limit", required_argument, NULL, U_PIDS},
    {"blkio-weight", required_argument, NULL, U_BLKIO}, {"kernel-memory", required_argument, NULL, U_KMEM},
    {"kernel-memory-tcp", required_argument, NULL, U_KTCP}, {"l3-cache-schema", required_argument, NULL, U_L3},
    {"mem-bw-schema", required_argument, NULL, U_MBA}, {"metadata", required_argument, NULL, U_META},
    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
  };
  json_t *res = json_object();
  json_t *mem = json_object(), *cpu = json_object(), *pids = json_object(), *blkio = json_object();
  const char *file = NULL, *metadata = NULL;
  edgecr_error_t err = NULL;
  int c, rc = 0;
  while (rc == 0 && (c = getopt_long_only(argc, argv, "r:h", opts, NULL)) != -1) {
    long long v;
    const char *opt = argv[optind - 1];
    switch (c) {
    case 'r': file = optarg; break;
    case U_MEM: case U_MEMRES: case U_SWAP:
      if (parse_size(optarg, &v) < 0) { rc = cli_usage("update", "%s: `%s` is not a size like 512m", opt, optarg); break; }
      json_object_set_new(mem, c == U_MEM ? "limit" : c == U_MEMRES ? "reservation" : "swap", json_integer(v));
      break;
    case U_SHARES: case U_QUOTA: case U_PERIOD: case U_RTRT: case U_RTP:
      if (parse_int64(optarg, &v) < 0) { rc = cli_usage("update", "%s: `%s` is not a number", opt, optarg); break; }
      json_object_set_new(cpu, c == U_SHARES ? "shares" : c == U_QUOTA ? "quota" : c == U_PERIOD ? "period"
                                   : c == U_RTRT ? "realtimeRuntime" : "realtimePeriod", json_integer(v));
      break;
    case U_CPUS: json_object_set_new(cpu, "cpus", json_string(optarg)); break;
    case U_MEMS: json_object_set_new(cpu, "mems", json_string(optarg)); break;
    case U_PIDS:
      if (parse_int64(optarg, &v) < 0) { rc = cli_usage("update", "--pids-limit: `%s` is not a number", optarg); break; }
      json_object_set_new(pids, "limit", json_integer(v));
      break;
    case U_BLKIO:
      if (parse_int64(optarg, &v) < 0) { rc = cli_usage("update", "--blkio-weight: `%s` is not a number", optarg); break; }
      json_object_set_new(blkio, "weight", json_integer(v));
      break;
    case U_KMEM: case U_KTCP: break; /* deprecated by the kernel; accepted as runc does */
    case U_L3: case U_MBA: rc = cli_usage("update", "Intel RDT is not supported"); break;
    case U_META: metadata = optarg; break;
    case 'h':
      puts("usage: edgecr update [-r FILE|-] [--memory N] [--memory-reservation N] [--memory-swap N]\n"
           "       [--cpu-shares N] [--cpu-quota N] [--cpu-period N] [--cpu-rt-runtime N] [--cpu-rt-period N]\n"
           "       [--cpuset-cpus L] [--cpuset-mems L] [--pids-limit N] [--blkio-weight N] ID\n"
           "       edgecr update --metadata FILE ID   (new signed tenant metadata, applied live)");
      json_decref(res); json_decref(mem); json_decref(cpu); json_decref(pids); json_decref(blkio);
      return 0;
    default: rc = cli_usage("update", "unknown option"); break;
    }
  }
  if (rc == 0 && optind != argc - 1)
    rc = cli_usage("update", "expects exactly one container id");
  if (rc == 0 && metadata != NULL) {
    json_decref(res); json_decref(mem); json_decref(cpu); json_decref(pids); json_decref(blkio);
    if (file != NULL || argc > 4) /* update --metadata FILE ID and nothing else */
      return cli_usage("update", "--metadata takes no resource options");
    return update_metadata(g, metadata, argv[optind]);
  }
  if (rc == 0 && file != NULL) {
    json_error_t je;
    json_t *f = strcmp(file, "-") == 0 ? json_loadf(stdin, 0, &je) : json_load_file(file, 0, &je);
    if (f == NULL) {
      edgecr_error_make(&err, EINVAL, "%s:%d: invalid JSON: %s", file, je.line, je.text);
      rc = cli_fail(&err);
    } else {
      json_decref(res);
      res = f;
    }
  }
  if (json_object_size(mem)) json_object_set(res, "memory", mem);
  if (json_object_size(cpu)) json_object_set(res, "cpu", cpu);
  if (json_object_size(pids)) json_object_set(res, "pids", pids);
  if (json_object_size(blkio)) json_object_set(res, "blockIO", blkio);
  json_decref(mem); json_decref(cpu); json_decref(pids); json_decref(blkio);
  if (rc == 0) {
    struct lc_context ctx = {.state_root = g->root, .systemd_cgroup = g->systemd_cgroup};
    if (lc_update(&ctx, argv[optind], res, &err) < 0)
      rc = cli_fail(&err);
  }
  json_decref(res);
  return rc;
}

static int print_stats(struct lc_context *ctx, const char *id)
{
  edgecr_error_t err = NULL;
  json_t *data = NULL;
  if (lc_stats(ctx, id, &data, &err) < 0)
    return cli_fail(&err);
  json_t *ev = json_pack("{s:s,s:s,s:o}", "type", "stats", "id", id, "data", data);
  char *s = json_dumps(ev, JSON_COMPACT);
  json_decref(ev);
  puts(s);
  free(s);
  fflush(stdout);
  return 0;
}

int cmd_events(struct edgecr_global *g, int argc, char **argv)
{
  static const struct option opts[] = {{"stats", no_argument, NULL, 's'}, {"interval", required_argument, NULL, 'i'},
                                       {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  bool stats = false;
  double interval = 5;
  int c;
  while ((c = getopt_long_only(argc, argv, "si:h", opts, NULL)) != -1) {
    if (c == 's')
      stats = true;
    else if (c == 'i') {
      char *end;
      interval = strtod(optarg, &end);
      if (strcmp(end, "ms") == 0)
        interval /= 1000;
      else if (strcmp(end, "m") == 0)
        interval *= 60;
      else if (*end != '\0' && strcmp(end, "s") != 0)
        return cli_usage("events", "--interval: `%s` is not a duration like 5s", optarg);
      if (interval <= 0)
        return cli_usage("events", "--interval must be positive");
    } else if (c == 'h') {
      puts("usage: edgecr events [--stats] [--interval 5s] ID");
      return 0;
    } else
      return cli_usage("events", "unknown option");
  }
  if (optind != argc - 1)
    return cli_usage("events", "expects exactly one container id");
  struct lc_context ctx = {.state_root = g->root, .systemd_cgroup = g->systemd_cgroup};
  const char *id = argv[optind];
  if (stats)
    return print_stats(&ctx, id);
  for (;;) {
    json_t *st = NULL;
    edgecr_error_t err = NULL;
    if (lc_state(&ctx, id, &st, &err) < 0)
      return cli_fail(&err);
    bool stopped = strcmp(json_string_value(json_object_get(st, "status")), "stopped") == 0;
    json_decref(st);
    if (stopped)
      return 0;
    if (print_stats(&ctx, id) != 0)
      return 1;
    usleep((useconds_t) (interval * 1e6));
  }
}

static const char default_spec[] =
  "{\n"
  "  \"ociVersion\": \"1.2.0\",\n"
  "  \"process\": {\n"
  "    \"terminal\": true,\n"
  "    \"user\": {\"uid\": 0, \"gid\": 0},\n"
  "    \"args\": [\"sh\"],\n"
  "    \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"TERM=xterm\"],\n"
  "    \"cwd\": \"/\",\n"
  "    \"capabilities\": {\n"
  "      \"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
  "      \"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
  "      \"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]\n"
  "    },\n"
  "    \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],\n"
  "    \"noNewPrivileges\": true\n"
  "  },\n"
  "  \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
  "  \"hostname\": \"edgecr\",\n"
  "  \"mounts\": [\n"
  "    {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
  "    {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
  "    {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\", \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\"%s]},\n"
  "    {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},\n"
  "    {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\", \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},\n"
  "    {\"destination\": \"/sys\", \"type\": \"%s\", \"source\": \"%s\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"%s]},\n"
  "    {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}\n"
  "  ],\n"
  "  \"linux\": {\n"
  "%s"
  "    \"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},\n"
  "    \"namespaces\": [{\"type\": \"pid\"}, %s{\"type\": \"ipc\"}, {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"cgroup\"}%s],\n"
  "    \"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\", \"/proc/latency_stats\", \"/proc/timer_list\",\n"
  "                    \"/proc/timer_stats\", \"/proc/sched_debug\", \"/sys/firmware\", \"/proc/scsi\"],\n"
  "    \"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\"]\n"
  "  }\n"
  "}\n";

int cmd_spec(struct edgecr_global *g, int argc, char **argv)
{
  (void) g;
  static const struct option opts[] = {{"bundle", required_argument, NULL, 'b'}, {"rootless", no_argument, NULL, 'r'},
                                       {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  const char *bundle = ".";
  bool rootless = false;
  int c;
  while ((c = getopt_long_only(argc, argv, "b:h", opts, NULL)) != -1) {
    if (c == 'b')
      bundle = optarg;
    else if (c == 'r')
      rootless = true;
    else if (c == 'h') {
      puts("usage: edgecr spec [--bundle DIR] [--rootless]");
      return 0;
    } else
      return cli_usage("spec", "unknown option");
  }
  if (optind != argc)
    return cli_usage("spec", "takes no arguments");
  cleanup_free char *path = xasprintf("%s/config.json", bundle);
  edgecr_error_t err = NULL;
  if (access(path, F_OK) == 0) {
    edgecr_error_make(&err, EEXIST, "spec: `%s` already exists", path);
    return cli_fail(&err);
  }
  cleanup_free char *maps = rootless ? xasprintf("    \"uidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1}],\n"
                                                 "    \"gidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1}],\n",
                                                 (unsigned) getuid(), (unsigned) getgid())
                                     : xstrdup("");
  cleanup_free char *text = xasprintf(default_spec, rootless ? "" : ", \"gid=5\"", rootless ? "none" : "sysfs",
                                      rootless ? "/sys" : "sysfs", rootless ? ", \"rbind\"" : "", maps,
                                      rootless ? "" : "{\"type\": \"network\"}, ", rootless ? ", {\"type\": \"user\"}" : "");
  if (write_file_atomic(path, text, strlen(text), 0644, &err) < 0)
    return cli_fail(&err);
  return 0;
}

/* Mount options that oci_mount_option() gives a meaning to. */
static json_t *mount_options(void)
{
  static const char *names[] = {
    "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "idmap", "loud", "mand",
    "noatime", "nodev", "nodiratime", "noexec", "nomand", "norelatime", "nostrictatime", "nosuid", "private",
    "rbind", "rdev", "rdiratime", "relatime", "remount", "rexec", "ridmap", "rnodev", "rnodiratime", "rnoexec",
    "rnosuid", "rnosymfollow", "ro", "rprivate", "rro", "rrw", "rshared", "rslave", "rsuid", "rsymfollow",
    "runbindable", "rw", "shared", "silent", "slave", "strictatime", "suid", "sync", "tmpcopyup", "unbindable",
  };
  json_t *a = json_array();
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    json_array_append_new(a, json_string(names[i]));
  return a;
}

int cmd_features(struct edgecr_global *g, int argc, char **argv)
{
  (void) g;
  if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    puts("usage: edgecr features");
    return 0;
  }
  json_t *caps = json_array();
  for (int c = 0; c <= CAP_LAST_CAP; c++) {
    char *n = cap_to_name((cap_value_t) c);
    if (n == NULL)
      continue;
    char up[64];
    size_t i = 0;
    for (; n[i] && i < sizeof up - 1; i++)
      up[i] = (char) toupper((unsigned char) n[i]);
    up[i] = '\0';
    if (strncmp(up, "CAP_", 4) == 0)
      json_array_append_new(caps, json_string(up));
    cap_free(n);
  }
  const struct scmp_version *v = seccomp_version();
  json_t *f = json_pack(
    "{s:s, s:s,"
    " s:[s,s,s,s,s,s],"
    " s:o,"
    " s:{s:[s,s,s,s,s,s,s,s], s:o,"
    "    s:{s:b,s:b,s:b,s:b,s:b},"
    "    s:{s:b, s:[s,s,s,s,s,s,s,s,s], s:[s,s,s,s,s,s,s], s:[s,s,s,s,s,s,s,s,s,s],"
    "       s:[s,s,s,s], s:[s,s,s]},"
    "    s:{s:b}, s:{s:b}, s:{s:b}, s:{s:{s:b}}},"
    " s:{s:s, s:s, s:s}, s:[]}",
    "ociVersionMin", "1.0.0", "ociVersionMax", "1.2.0",
    "hooks", "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
    "mountOptions", mount_options(),
    "linux", "namespaces", "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts",
    "capabilities", caps,
    "cgroup", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0, "rdma", 0,
    "seccomp", "enabled", 1,
    "actions", "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
    "operators", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
    "SCMP_CMP_NE",
    "archs", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390X", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64",
    "knownFlags", "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    "supportedFlags", "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "apparmor", "enabled", 0, "selinux", "enabled", 0, "intelRdt", "enabled", 0,
    "mountExtensions", "idmap", "enabled", 1,
    "annotations", "org.edgecr.version", EDGECR_VERSION, "io.github.seccomp.libseccomp.version",
    "", "org.edgecr.backends", "", /* filled below from the registry */
    "potentiallyUnsafeConfigAnnotations");
  if (f == NULL) {
    fputs("edgecr: features: internal error building JSON\n", stderr);
    return 1;
  }
  char ver[32];
  snprintf(ver, sizeof ver, "%u.%u.%u", v->major, v->minor, v->micro);
  json_t *ann = json_object_get(f, "annotations");
  json_object_set_new(ann, "io.github.seccomp.libseccomp.version", json_string(ver));
  /* The WebAssembly engine implements the 2.0 core specification (docs/wasm.md). */
  json_object_set_new(ann, "org.edgecr.wasm.version", json_string("2.0"));
  /* Every registered backend, in the order they are asked to claim a bundle. */
  cleanup_free char *names = xstrdup("");
  for (size_t i = 0; i < backend_count(); i++) {
    char *t = xasprintf("%s%s%s", names, i ? "," : "", backend_at(i)->name);
    free(names);
    names = t;
  }
  json_object_set_new(ann, "org.edgecr.backends", json_string(names));
  char *s = json_dumps(f, JSON_INDENT(4));
  json_decref(f);
  puts(s);
  free(s);
  return 0;
}
