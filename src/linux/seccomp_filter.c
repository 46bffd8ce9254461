/* seccomp_filter.c - OCI seccomp profile -> libseccomp filter. */
#include "seccomp_filter.h"

#include <errno.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "console.h"
#include "log.h"
#include "util.h"

/* SECCOMP_FILTER_FLAG_* (linux/seccomp.h), for loading without libseccomp. */
#define FILTER_FLAG_TSYNC 1u
#define FILTER_FLAG_LOG 2u
#define FILTER_FLAG_SPEC_ALLOW 4u
#define FILTER_FLAG_NEW_LISTENER 8u
#define FILTER_FLAG_TSYNC_ESRCH 16u

static int bad(edgecr_error_t *err, const char *file, const char *field, const char *why, const char *what)
{
  return edgecr_error_invalid(err, "%s: `linux.seccomp.%s`: %s%s%s%s", file, field, why,
                           what ? " `" : "", what ? what : "", what ? "`" : "");
}

static int parse_action(const char *name, json_t *errno_ret, uint32_t *out, bool *notify)
{
  int e = json_is_integer(errno_ret) ? (int) json_integer_value(errno_ret) : EPERM;
  if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0) *out = SCMP_ACT_KILL_THREAD;
  else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0) *out = SCMP_ACT_KILL_PROCESS;
  else if (strcmp(name, "SCMP_ACT_TRAP") == 0) *out = SCMP_ACT_TRAP;
  else if (strcmp(name, "SCMP_ACT_ERRNO") == 0) *out = SCMP_ACT_ERRNO((uint32_t) e);
  else if (strcmp(name, "SCMP_ACT_TRACE") == 0) *out = SCMP_ACT_TRACE((uint32_t) e);
  else if (strcmp(name, "SCMP_ACT_ALLOW") == 0) *out = SCMP_ACT_ALLOW;
  else if (strcmp(name, "SCMP_ACT_LOG") == 0) *out = SCMP_ACT_LOG;
  else if (strcmp(name, "SCMP_ACT_NOTIFY") == 0) { *out = SCMP_ACT_NOTIFY; *notify = true; }
  else return -1;
  return 0;
}

static int parse_op(const char *s, enum scmp_compare *op)
{
  static const struct { const char *n; enum scmp_compare op; } ops[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(s, ops[i].n) == 0) {
      *op = ops[i].op;
      return 0;
    }
  return -1;
}

static uint32_t arch_token(const char *name)
{
  /* "SCMP_ARCH_X86_64" -> "x86_64" as libseccomp spells it. */
  char buf[64];
  const char *s = str_has_prefix(name, "SCMP_ARCH_") ? name + 10 : name;
  size_t n = strlen(s);
  if (n >= sizeof buf)
    return 0;
  for (size_t i = 0; i <= n; i++)
    buf[i] = (char) (s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
  return seccomp_arch_resolve_name(buf);
}

static int add_rule(struct edgecr_seccomp *s, json_t *rule, size_t idx, const char *file, uint32_t def,
                    bool *notify, edgecr_error_t *err)
{
  cleanup_free char *f = xasprintf("syscalls[%zu]", idx);
  if (!json_is_object(rule))
    return bad(err, file, f, "must be an object", NULL);
  const char *act = json_string_value(json_object_get(rule, "action"));
  uint32_t action;
  if (act == NULL || parse_action(act, json_object_get(rule, "errnoRet"), &action, notify) < 0) {
    cleanup_free char *fa = xasprintf("%s.action", f);
    return bad(err, file, fa, "unknown or missing action", act);
  }
  json_t *names = json_object_get(rule, "names");
  json_t *args = json_object_get(rule, "args");
  if (!json_is_array(names))
    return bad(err, file, f, "needs `names`, an array of syscall names", NULL);
  struct scmp_arg_cmp cmps[6];
  unsigned ncmp = 0;
  for (size_t i = 0; json_is_array(args) && i < json_array_size(args); i++) {
    json_t *a = json_array_get(args, i);
    const char *ops = json_string_value(json_object_get(a, "op"));
    json_t *index = json_object_get(a, "index");
    enum scmp_compare op;
    if (ncmp >= 6 || !json_is_integer(index) || json_integer_value(index) > 5 || ops == NULL || parse_op(ops, &op) < 0)
      return bad(err, file, f, "bad args entry (index 0-5, value, op SCMP_CMP_*)", ops);
    cmps[ncmp].arg = (unsigned) json_integer_value(index);
    cmps[ncmp].op = op;
    cmps[ncmp].datum_a = (scmp_datum_t) json_integer_value(json_object_get(a, "value"));
    cmps[ncmp].datum_b = (scmp_datum_t) json_integer_value(json_object_get(a, "valueTwo"));
    ncmp++;
  }
  if (action == def)
    return 0; /* same as the default: libseccomp refuses redundant rules */
  for (size_t i = 0; i < json_array_size(names); i++) {
    const char *name = json_string_value(json_array_get(names, i));
    if (name == NULL)
      return bad(err, file, f, "names must be strings", NULL);
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) {
      log_debug("seccomp: unknown syscall `%s` ignored", name);
      continue;
    }
    /* libseccomp ANDs the comparisons of one rule and refuses two on the
     * same argument; runc gives those OR semantics (any listed value
     * matches) by adding one rule per comparison, and so do we. */
    bool repeated = false;
    for (unsigned a = 0; a < ncmp; a++)
      for (unsigned b = a + 1; b < ncmp; b++)
        if (cmps[a].arg == cmps[b].arg)
          repeated = true;
    unsigned rules = repeated ? ncmp : 1;
    for (unsigned k = 0; k < rules; k++) {
      int r = repeated ? seccomp_rule_add_array(s->ctx, action, nr, 1, &cmps[k])
                       : seccomp_rule_add_array(s->ctx, action, nr, ncmp, cmps);
      if (r < 0 && r != -EEXIST)
        return edgecr_error_make(err, -r, "%s: `linux.seccomp.%s`: add rule for `%s`", file, f, name);
    }
  }
  return 0;
}

int edgecr_seccomp_build(json_t *sc, const char *file, struct edgecr_seccomp **out, edgecr_error_t *err)
{
  *out = NULL;
  if (sc == NULL)
    return 0;
  const char *defact = json_string_value(json_object_get(sc, "defaultAction"));
  uint32_t def;
  bool notify = false;
  json_t *der = json_object_get(sc, "defaultErrnoRet");
  if (defact == NULL || parse_action(defact, der, &def, &notify) < 0)
    return bad(err, file, "defaultAction", "missing or unknown action", defact);
  if (notify)
    return bad(err, file, "defaultAction", "SCMP_ACT_NOTIFY cannot be the default action", NULL);
  struct edgecr_seccomp *s = xmalloc0(sizeof *s);
  s->listener_sock = -1;
  s->ctx = seccomp_init(def);
  if (s->ctx == NULL) {
    free(s);
    return edgecr_error_make(err, ENOMEM, "seccomp_init");
  }
  /* libseccomp sets no_new_privs itself when it loads a filter unless told
   * not to; whether the process gets it is process.noNewPrivileges' call
   * alone (set with prctl by the caller). */
  int nnp = seccomp_attr_set(s->ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (nnp < 0) {
    edgecr_seccomp_free(s);
    return edgecr_error_make(err, -nnp, "seccomp: turn off libseccomp's implicit no_new_privs");
  }
  json_t *arches = json_object_get(sc, "architectures");
  for (size_t i = 0; json_is_array(arches) && i < json_array_size(arches); i++) {
    const char *a = json_string_value(json_array_get(arches, i));
    uint32_t tok = a ? arch_token(a) : 0;
    if (tok == 0) {
      edgecr_seccomp_free(s);
      cleanup_free char *f = xasprintf("architectures[%zu]", i);
      return bad(err, file, f, "unknown architecture", a);
    }
    int r = seccomp_arch_add(s->ctx, tok);
    if (r < 0 && r != -EEXIST) {
      edgecr_seccomp_free(s);
      return edgecr_error_make(err, -r, "%s: `linux.seccomp.architectures[%zu]`: add `%s`", file, i, a);
    }
  }
  json_t *flags = json_object_get(sc, "flags");
  for (size_t i = 0; json_is_array(flags) && i < json_array_size(flags); i++) {
    const char *fl = json_string_value(json_array_get(flags, i));
    int r = 0;
    if (fl && strcmp(fl, "SECCOMP_FILTER_FLAG_TSYNC") == 0) {
      r = seccomp_attr_set(s->ctx, SCMP_FLTATR_CTL_TSYNC, 1);
      s->flags |= FILTER_FLAG_TSYNC;
    } else if (fl && strcmp(fl, "SECCOMP_FILTER_FLAG_LOG") == 0) {
      r = seccomp_attr_set(s->ctx, SCMP_FLTATR_CTL_LOG, 1);
      s->flags |= FILTER_FLAG_LOG;
    } else if (fl && strcmp(fl, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0) {
      r = seccomp_attr_set(s->ctx, SCMP_FLTATR_CTL_SSB, 1);
      s->flags |= FILTER_FLAG_SPEC_ALLOW;
    }
    else if (fl && strcmp(fl, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0)
      log_warning("%s: `linux.seccomp.flags[%zu]`: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored (this libseccomp "
                  "cannot set it; notified syscalls wait interruptibly)", file, i);
    else {
      edgecr_seccomp_free(s);
      cleanup_free char *f = xasprintf("flags[%zu]", i);
      return bad(err, file, f, "unknown flag", fl);
    }
    if (r < 0) {
      edgecr_seccomp_free(s);
      return edgecr_error_make(err, -r, "%s: `linux.seccomp.flags[%zu]`: `%s` is not supported by this kernel or "
                                        "libseccomp", file, i, fl);
    }
  }
  json_t *calls = json_object_get(sc, "syscalls");
  if (calls != NULL && !json_is_array(calls)) {
    edgecr_seccomp_free(s);
    return bad(err, file, "syscalls", "must be an array", NULL);
  }
  for (size_t i = 0; i < json_array_size(calls); i++)
    if (add_rule(s, json_array_get(calls, i), i, file, def, &notify, err) < 0) {
      edgecr_seccomp_free(s);
      return -1;
    }
  const char *lp = json_string_value(json_object_get(sc, "listenerPath"));
  if (notify && (lp == NULL || *lp == '\0')) {
    edgecr_seccomp_free(s);
    return bad(err, file, "listenerPath", "SCMP_ACT_NOTIFY needs a listenerPath", NULL);
  }
  s->has_notify = notify;
  if (lp && *lp)
    s->listener_path = xstrdup(lp);
  const char *md = json_string_value(json_object_get(sc, "listenerMetadata"));
  if (md)
    s->listener_metadata = xstrdup(md);
  *out = s;
  return 0;
}

int edgecr_seccomp_connect(struct edgecr_seccomp *s, edgecr_error_t *err)
{
  if (s == NULL || s->listener_path == NULL)
    return 0;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(s->listener_path) >= sizeof addr.sun_path)
    return edgecr_error_make(err, ENAMETOOLONG, "linux.seccomp.listenerPath `%s`", s->listener_path);
  strcpy(addr.sun_path, s->listener_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *) &addr, sizeof addr) < 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    return edgecr_error_make(err, e, "linux.seccomp.listenerPath: connect `%s`", s->listener_path);
  }
  s->listener_sock = fd;
  return 0;
}

/* A listener without any NOTIFY rule still gets a notification fd (as
 * runc and crun hand one over), but libseccomp only asks the kernel for
 * one when a rule notifies: load the compiled program ourselves then. */
static int load_with_listener(struct edgecr_seccomp *s, edgecr_error_t *err)
{
  cleanup_close int mem = memfd_create("edgecr-seccomp-bpf", MFD_CLOEXEC);
  if (mem < 0)
    return edgecr_error_make(err, errno, "linux.seccomp: memfd for the filter");
  int r = seccomp_export_bpf(s->ctx, mem);
  if (r < 0)
    return edgecr_error_make(err, -r, "linux.seccomp: compile the filter");
  struct stat st;
  if (fstat(mem, &st) < 0 || st.st_size <= 0 || st.st_size % (off_t) sizeof(struct sock_filter) != 0)
    return edgecr_error_make(err, EINVAL, "linux.seccomp: compiled filter has a bad size");
  cleanup_free struct sock_filter *insns = xmalloc0((size_t) st.st_size);
  if (pread(mem, insns, (size_t) st.st_size, 0) != st.st_size)
    return edgecr_error_make(err, errno ? errno : EIO, "linux.seccomp: read the compiled filter");
  struct sock_fprog prog = {.len = (unsigned short) (st.st_size / (off_t) sizeof(struct sock_filter)), .filter = insns};
  unsigned flags = s->flags | FILTER_FLAG_NEW_LISTENER;
  if (flags & FILTER_FLAG_TSYNC)
    flags |= FILTER_FLAG_TSYNC_ESRCH; /* the kernel wants it with NEW_LISTENER */
  int fd = (int) syscall(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, flags, &prog);
  if (fd < 0)
    return edgecr_error_make(err, errno, "linux.seccomp: load filter");
  return fd;
}

int edgecr_seccomp_install(struct edgecr_seccomp *s, const char *state_json, edgecr_error_t *err)
{
  if (s == NULL)
    return 0;
  int nfd = -1;
  if (s->listener_sock >= 0 && !s->has_notify) {
    if ((nfd = load_with_listener(s, err)) < 0)
      return -1;
  } else {
    int r = seccomp_load(s->ctx);
    if (r < 0)
      return edgecr_error_make(err, -r, "linux.seccomp: load filter");
    if (s->listener_sock < 0)
      return 0;
    nfd = seccomp_notify_fd(s->ctx);
    if (nfd < 0)
      return edgecr_error_make(err, -nfd, "linux.seccomp: get the notification fd");
  }
  /* The spec's container process state: the state plus the fd index. */
  json_error_t je;
  json_t *st = json_loads(state_json ? state_json : "{}", 0, &je);
  /* The container is not created until its process runs: "creating", as
   * runc and crun report it to the listener. */
  if (st != NULL && json_object_get(st, "status") != NULL)
    json_object_set_new(st, "status", json_string("creating"));
  json_t *msg = json_object();
  json_object_set_new(msg, "ociVersion", json_string("1.2.0"));
  json_object_set_new(msg, "fds", json_pack("[s]", "seccompFd"));
  json_object_set_new(msg, "pid", json_integer(getpid()));
  json_object_set_new(msg, "metadata", json_string(s->listener_metadata ? s->listener_metadata : ""));
  json_object_set_new(msg, "state", st ? st : json_object());
  cleanup_free char *text = json_dumps(msg, JSON_COMPACT);
  json_decref(msg);
  if (send_fd(s->listener_sock, nfd, text, err) < 0)
    return edgecr_error_wrap(err, "linux.seccomp.listenerPath");
  close(s->listener_sock);
  s->listener_sock = -1;
  close(nfd);
  return 0;
}

void edgecr_seccomp_free(struct edgecr_seccomp *s)
{
  if (s == NULL)
    return;
  if (s->ctx)
    seccomp_release(s->ctx);
  free(s->listener_path);
  free(s->listener_metadata);
  if (s->listener_sock >= 0)
    close(s->listener_sock);
  free(s);
}
