/* test_linux_pure.c - unit tests for the parts of the Linux backend that need
 * no namespace or privilege: secure_join (src/linux/mounts.c: symlinks,
 * `..` and loops never lead out of the root), parse_cpu_list and
 * process_find_executable (src/linux/process.c), and the seccomp profile
 * compiler (src/linux/seccomp_filter.c: a valid profile builds into the
 * expected libseccomp rules; every unknown action, architecture, flag or
 * malformed rule is refused naming the field; NOTIFY needs listenerPath;
 * libseccomp's implicit no_new_privs is off), and the sync protocol
 * (src/linux/sync.c: large messages, malformed frames). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "mounts.h"
#include "process.h"
#include "seccomp_filter.h"
#include "sync.h"
#include "util.h"
#include "unit_tmpdir.h"

#define make_tmpdir() make_tmpdir_tagged("linux")

static void mk(const char *root, const char *rel)
{
  cleanup_free char *p = xasprintf("%s/%s", root, rel);
  assert_int_equal(mkdir(p, 0755), 0);
}

static void ln(const char *root, const char *target, const char *rel)
{
  cleanup_free char *p = xasprintf("%s/%s", root, rel);
  assert_int_equal(symlink(target, p), 0);
}

/* secure_join(root, unsafe) must equal root + expected. */
static void expect_join(const char *root, const char *unsafe, const char *expected)
{
  cleanup_free char *got = secure_join(root, unsafe);
  cleanup_free char *want = xasprintf("%s%s", root, expected);
  if (strcmp(got, want) != 0) {
    print_error("secure_join(root, \"%s\") = \"%s\", want \"%s\"\n", unsafe, got, want);
    fail();
  }
}

/* Whatever the kernel makes of the result, it must stay below root. */
static void expect_inside(const char *root, const char *unsafe)
{
  cleanup_free char *got = secure_join(root, unsafe);
  assert_true(str_has_prefix(got, root));
  cleanup_free char *real = realpath(got, NULL);
  if (real == NULL) {
    /* Not there (or a loop): resolve what exists of it. */
    assert_true(errno == ENOENT || errno == ELOOP || errno == ENOTDIR);
    struct stat st;
    if (lstat(got, &st) == 0 && S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlink(got, target, sizeof target - 1);
      assert_true(n > 0);
      target[n] = '\0';
      if (target[0] == '/' && !str_has_prefix(target, root)) {
        print_error("secure_join(root, \"%s\") = \"%s\", a symlink to \"%s\" outside the root\n", unsafe, got,
                    target);
        fail();
      }
    }
    return;
  }
  cleanup_free char *rroot = realpath(root, NULL);
  if (!str_has_prefix(real, rroot)) {
    print_error("secure_join(root, \"%s\") = \"%s\", which resolves to \"%s\" outside the root\n", unsafe, got, real);
    fail();
  }
}

static void test_secure_join(void **state)
{
  (void) state;
  cleanup_free char *root = make_tmpdir();
  mk(root, "etc");
  mk(root, "usr");
  mk(root, "usr/lib");
  ln(root, "/etc", "abs");              /* absolute: relative to the root */
  ln(root, "../../../../../../etc", "rel"); /* climbs above the root */
  ln(root, "usr/lib", "lib");           /* relative, inside */
  ln(root, "/usr/lib/../../etc/", "messy");
  ln(root, "lib/..", "dotdot");         /* resolves to /usr */
  ln(root, "/", "toroot");

  expect_join(root, "", "");
  expect_join(root, "/", "");
  expect_join(root, "/etc/passwd", "/etc/passwd");
  expect_join(root, "etc/passwd", "/etc/passwd");
  expect_join(root, "//etc/./passwd/", "/etc/passwd");
  expect_join(root, "/new/dir/file", "/new/dir/file"); /* need not exist */
  expect_join(root, "/..", "");
  expect_join(root, "/../../../etc/shadow", "/etc/shadow");
  expect_join(root, "/usr/../../../etc", "/etc");
  expect_join(root, "/abs/passwd", "/etc/passwd");
  expect_join(root, "/abs", "/etc");
  expect_join(root, "/rel/passwd", "/etc/passwd");
  expect_join(root, "/lib/x.so", "/usr/lib/x.so");
  expect_join(root, "/lib/../bin", "/usr/bin"); /* `..` after a link: the link target's parent */
  expect_join(root, "/messy/hosts", "/etc/hosts");
  expect_join(root, "/dotdot/lib", "/usr/lib");
  expect_join(root, "/toroot/../../etc", "/etc");

  /* loops terminate and stay inside */
  ln(root, "loop2", "loop1");
  ln(root, "loop1", "loop2");
  ln(root, "self", "self");
  expect_inside(root, "/loop1/x");
  expect_inside(root, "/self");
  expect_inside(root, "/self/../../etc");

  /* A component longer than PATH_MAX in total: no overflow, stays inside. */
  size_t n = PATH_MAX + 100;
  char *longp = xmalloc0(n + 1);
  for (size_t i = 0; i < n; i++)
    longp[i] = (i % 100 == 0) ? '/' : 'a';
  cleanup_free char *got = secure_join(root, longp);
  assert_true(str_has_prefix(got, root));
  assert_true(strlen(got) < strlen(root) + PATH_MAX + 1);
  free(longp);
  rm_tmpdir(root);
}

/* A long chain of links that ends in an absolute link to the host: once
 * the link budget (255) is used up, the result must still not be a path the
 * kernel would follow out of the root. */
static void test_secure_join_link_budget(void **state)
{
  (void) state;
  cleanup_free char *root = make_tmpdir();
  mk(root, "chain");
  for (int i = 0; i < 300; i++) {
    char name[64], target[64];
    snprintf(name, sizeof name, "chain/l%d", i);
    if (i == 255)
      snprintf(target, sizeof target, "/../../../../../tmp");
    else
      snprintf(target, sizeof target, "l%d", i + 1);
    ln(root, target, name);
  }
  ln(root, "/../../../../../tmp", "chain/l300");
  expect_inside(root, "/chain/l0");
  expect_inside(root, "/chain/l0/x");
  expect_inside(root, "/chain/l40");

  rm_tmpdir(root);
}

/* ---- cpu lists ------------------------------------------------------------ */

static int cpu_count(const cpu_set_t *s)
{
  return CPU_COUNT(s);
}

static void test_parse_cpu_list(void **state)
{
  (void) state;
  cpu_set_t s;
  assert_int_equal(parse_cpu_list("0", &s), 0);
  assert_int_equal(cpu_count(&s), 1);
  assert_true(CPU_ISSET(0, &s));
  assert_int_equal(parse_cpu_list("0-2,5", &s), 0);
  assert_int_equal(cpu_count(&s), 4);
  assert_true(CPU_ISSET(2, &s));
  assert_false(CPU_ISSET(3, &s));
  assert_true(CPU_ISSET(5, &s));
  assert_int_equal(parse_cpu_list("7,3-3,1", &s), 0);
  assert_int_equal(cpu_count(&s), 3);
  assert_true(CPU_ISSET(7, &s) && CPU_ISSET(3, &s) && CPU_ISSET(1, &s));
  assert_int_equal(parse_cpu_list("0-1023", &s), 0);
  assert_int_equal(cpu_count(&s), CPU_SETSIZE);
  assert_int_equal(parse_cpu_list("1,1,1", &s), 0); /* repeats are harmless */
  assert_int_equal(cpu_count(&s), 1);
  assert_int_equal(parse_cpu_list("", &s), 0); /* empty: no CPU (callers treat "" as "unset") */
  assert_int_equal(cpu_count(&s), 0);

  static const char *bad[] = {"a", "-1", "1-", "2-1", "1,,2", ",1", "0-1024", "1024", "1 2", "1;2", "0-2x",
                              "1--2", "3-a", "99999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (parse_cpu_list(bad[i], &s) != -1) {
      print_error("parse_cpu_list(\"%s\") accepted\n", bad[i]);
      fail();
    }
}

/* ---- executable lookup ---------------------------------------------------- */

static void touch_mode(const char *root, const char *rel, mode_t mode)
{
  cleanup_free char *p = xasprintf("%s/%s", root, rel);
  int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, mode);
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(chmod(p, mode), 0);
}

static void test_find_executable(void **state)
{
  (void) state;
  cleanup_free char *root = make_tmpdir();
  mk(root, "a");
  mk(root, "b");
  mk(root, "c");
  mk(root, "a/tool2");            /* a directory is not an executable */
  touch_mode(root, "a/tool", 0644); /* not executable: skipped */
  touch_mode(root, "b/tool", 0755);
  touch_mode(root, "c/tool2", 0700);
  touch_mode(root, "c/plain", 0600);

  cleanup_free char *path_env = xasprintf("PATH=%s/a:%s/b:%s/c", root, root, root);
  cleanup_free char *wrong = xasprintf("PATHX=%s/c", root);
  char *env[] = {"HOME=/", wrong, path_env, NULL};
  char *args[] = {"tool", NULL};
  struct oci_process p = {.args = args, .env = env};
  edgecr_error_t err = NULL;

  cleanup_free char *got = process_find_executable(&p, &err);
  cleanup_free char *want = xasprintf("%s/b/tool", root);
  assert_non_null(got);
  assert_null(err);
  assert_string_equal(got, want);

  args[0] = "tool2";
  cleanup_free char *got2 = process_find_executable(&p, &err);
  cleanup_free char *want2 = xasprintf("%s/c/tool2", root);
  assert_string_equal(got2, want2);

  args[0] = "plain";
  assert_null(process_find_executable(&p, &err));
  assert_int_equal(edgecr_error_errno(&err), ENOENT);
  assert_string_equal(err->msg, "exec: `plain`: executable file not found in $PATH: No such file or directory");
  edgecr_error_release(&err);

  /* a name with a slash is used as given */
  cleanup_free char *direct = xasprintf("%s/b/tool", root);
  args[0] = direct;
  cleanup_free char *got3 = process_find_executable(&p, &err);
  assert_string_equal(got3, direct);
  cleanup_free char *noexec = xasprintf("%s/a/tool", root);
  args[0] = noexec;
  assert_null(process_find_executable(&p, &err));
  assert_int_equal(edgecr_error_errno(&err), EACCES);
  assert_non_null(strstr(err->msg, noexec));
  edgecr_error_release(&err);
  cleanup_free char *missing = xasprintf("%s/nope", root);
  args[0] = missing;
  assert_null(process_find_executable(&p, &err));
  assert_int_equal(edgecr_error_errno(&err), ENOENT);
  edgecr_error_release(&err);

  /* no PATH: the conventional default finds sh */
  char *env3[] = {NULL};
  p.env = env3;
  args[0] = "sh";
  cleanup_free char *got5 = process_find_executable(&p, &err);
  assert_non_null(got5);
  assert_true(str_has_suffix(got5, "/sh"));
  assert_int_equal(access(got5, X_OK), 0);
  /* an empty PATH entry means the current directory */
  cleanup_free char *cwd = getcwd(NULL, 0);
  cleanup_free char *cdir = xasprintf("%s/c", root);
  assert_int_equal(chdir(cdir), 0);
  char *env2[] = {"PATH=/nonexistent::/also-not", NULL};
  p.env = env2;
  args[0] = "tool2";
  cleanup_free char *got4 = process_find_executable(&p, &err);
  assert_int_equal(chdir(cwd), 0);
  if (got4 == NULL) {
    print_error("empty PATH entry not searched: %s\n", err->msg);
    edgecr_error_release(&err);
  }
  assert_non_null(got4);
  assert_string_equal(got4, "./tool2");

  rm_tmpdir(root);
}

/* ---- seccomp ------------------------------------------------------------------ */

static json_t *js(const char *text)
{
  json_error_t jerr;
  json_t *j = json_loads(text, 0, &jerr);
  if (j == NULL) {
    print_error("bad JSON in the test: %s\n", jerr.text);
    fail();
  }
  return j;
}

/* The filter as libseccomp's pseudo-code, to check which rules went in. */
static char *export_pfc(struct edgecr_seccomp *s)
{
  int fd = memfd_create("pfc", MFD_CLOEXEC);
  assert_true(fd >= 0);
  assert_int_equal(seccomp_export_pfc(s->ctx, fd), 0);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  char *text = NULL;
  edgecr_error_t err = NULL;
  assert_true(read_all_fd(fd, "pfc", &text, &err) > 0);
  close(fd);
  return text;
}

/* Actions such as NOTIFY, LOG and KILL_PROCESS need libseccomp API level 5;
 * libseccomp probes the kernel for it, and under valgrind (which does not
 * emulate seccomp()) the level drops: those checks are skipped there. */
static bool seccomp_api_full(void)
{
  return seccomp_api_get() >= 5;
}

static void test_seccomp_valid(void **state)
{
  (void) state;
  if (!seccomp_api_full()) {
    print_message("libseccomp API level %u < 5 (valgrind?): skipped\n", seccomp_api_get());
    skip();
  }
  edgecr_error_t err = NULL;
  struct edgecr_seccomp *s = (void *) 1;
  assert_int_equal(edgecr_seccomp_build(NULL, "c.json", &s, &err), 0);
  assert_null(s);

  json_t *prof = js("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,"
                    " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"],"
                    " \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],"
                    " \"syscalls\": ["
                    "  {\"names\": [\"read\", \"write\", \"no_such_syscall_x\"], \"action\": \"SCMP_ACT_ALLOW\"},"
                    "  {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13},"
                    "  {\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ALLOW\","
                    "   \"args\": [{\"index\": 1, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]},"
                    "  {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\"},"
                    "  {\"names\": [\"reboot\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"},"
                    "  {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_TRAP\"},"
                    "  {\"names\": [\"chroot\"], \"action\": \"SCMP_ACT_LOG\"},"
                    "  {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}"
                    " ]}");
  assert_int_equal(edgecr_seccomp_build(prof, "c.json", &s, &err), 0);
  assert_null(err);
  assert_non_null(s);
  assert_non_null(s->ctx);
  assert_null(s->listener_path);
  assert_int_equal(s->listener_sock, -1);
  cleanup_free char *pfc = export_pfc(s);
  assert_non_null(strstr(pfc, "if ($syscall == 0)"));  /* read (x86_64) */
  assert_non_null(strstr(pfc, "if ($syscall == 83)")); /* mkdir */
  assert_non_null(strstr(pfc, "action ERRNO(13)"));
  assert_non_null(strstr(pfc, "action KILL_PROCESS"));
  assert_non_null(strstr(pfc, "action TRAP"));
  assert_non_null(strstr(pfc, "action LOG"));
  assert_non_null(strstr(pfc, "action ERRNO(38)")); /* the default with defaultErrnoRet */
  assert_non_null(strstr(pfc, "if ($a1.lo32 == 0)")); /* kill's argument filter (x86_64) */
  assert_non_null(strstr(pfc, "if ($a1 == 0)"));      /* and on x86 */
  assert_null(strstr(pfc, "== 110)"));               /* getppid: same as the default, no rule */
  assert_non_null(strstr(pfc, "x86"));
  edgecr_seccomp_free(s);
  json_decref(prof);

  /* listener: path and metadata kept */
  prof = js("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/run/agent.sock\","
            " \"listenerMetadata\": \"meta\","
            " \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}");
  assert_int_equal(edgecr_seccomp_build(prof, "c.json", &s, &err), 0);
  assert_string_equal(s->listener_path, "/run/agent.sock");
  assert_string_equal(s->listener_metadata, "meta");
  cleanup_free char *pfc2 = export_pfc(s);
  assert_non_null(strstr(pfc2, "action 0x7fc00000")); /* libseccomp prints NOTIFY as its value */
  edgecr_seccomp_free(s);
  json_decref(prof);

  /* listenerPath without a NOTIFY rule: still gets a (silent) listener fd */
  prof = js("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/run/agent.sock\","
            " \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\"}]}");
  assert_int_equal(edgecr_seccomp_build(prof, "c.json", &s, &err), 0);
  assert_string_equal(s->listener_path, "/run/agent.sock");
  assert_false(s->has_notify);
  /* libseccomp must not set no_new_privs by itself (noNewPrivileges decides) */
  uint32_t nnp = 1;
  assert_int_equal(seccomp_attr_get(s->ctx, SCMP_FLTATR_CTL_NNP, &nnp), 0);
  assert_int_equal(nnp, 0);
  edgecr_seccomp_free(s);
  json_decref(prof);
  edgecr_seccomp_free(NULL);
}

/* Two conditions on the same argument: runc adds one rule per condition
 * (either value is allowed); libseccomp cannot AND two comparisons of one
 * argument in a single rule. */
static void test_seccomp_same_arg_twice(void **state)
{
  (void) state;
  edgecr_error_t err = NULL;
  struct edgecr_seccomp *s = NULL;
  json_t *prof = js("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
                    " {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                    "  {\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"},"
                    "  {\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"}]}]}");
  int r = edgecr_seccomp_build(prof, "c.json", &s, &err);
  json_decref(prof);
  if (r < 0) {
    print_error("refused: %s\n", err->msg);
    edgecr_error_release(&err);
  }
  assert_int_equal(r, 0);
  cleanup_free char *pfc = export_pfc(s);
  assert_non_null(strstr(pfc, "if ($a0.lo32 == 0)"));
  assert_non_null(strstr(pfc, "if ($a0.lo32 == 8)"));
  edgecr_seccomp_free(s);
}

struct sc_bad {
  const char *profile;
  const char *msg; /* expected message, after "c.json: " */
};

static const struct sc_bad sc_bad_cases[] = {
  {"{}", "`linux.seccomp.defaultAction`: missing or unknown action"},
  {"{\"defaultAction\": 1}", "`linux.seccomp.defaultAction`: missing or unknown action"},
  {"{\"defaultAction\": \"SCMP_ACT_MAYBE\"}", "`linux.seccomp.defaultAction`: missing or unknown action `SCMP_ACT_MAYBE`"},
  {"{\"defaultAction\": \"SCMP_ACT_NOTIFY\", \"listenerPath\": \"/x\"}",
   "`linux.seccomp.defaultAction`: SCMP_ACT_NOTIFY cannot be the default action"},
  {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_VAX\"]}",
   "`linux.seccomp.architectures[1]`: unknown architecture `SCMP_ARCH_VAX`"},
  {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [7]}",
   "`linux.seccomp.architectures[0]`: unknown architecture"},
  {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_FAST\"]}",
   "`linux.seccomp.flags[1]`: unknown flag `SECCOMP_FILTER_FLAG_FAST`"},
  {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": {}}", "`linux.seccomp.syscalls`: must be an array"},
  {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [\"read\"]}", "`linux.seccomp.syscalls[0]`: must be an object"},
  {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\"},"
   " {\"names\": [\"read\"], \"action\": \"SCMP_ACT_NOPE\"}]}",
   "`linux.seccomp.syscalls[1].action`: unknown or missing action `SCMP_ACT_NOPE`"},
  {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"]}]}",
   "`linux.seccomp.syscalls[0].action`: unknown or missing action"},
  {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"action\": \"SCMP_ACT_ERRNO\"}]}",
   "`linux.seccomp.syscalls[0]`: needs `names`"},
  {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\","
   " \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
   "`linux.seccomp.syscalls[0]`: bad args entry"},
  {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\","
   " \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_ALMOST\"}]}]}",
   "`linux.seccomp.syscalls[0]`: bad args entry (index 0-5, value, op SCMP_CMP_*) `SCMP_CMP_ALMOST`"},
  {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\", 3], \"action\": \"SCMP_ACT_ERRNO\"}]}",
   "`linux.seccomp.syscalls[0]`: names must be strings"},
  {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
   "`linux.seccomp.listenerPath`: SCMP_ACT_NOTIFY needs a listenerPath"},
  {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"\","
   " \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
   "`linux.seccomp.listenerPath`: SCMP_ACT_NOTIFY needs a listenerPath"},
};

static void test_seccomp_errors(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof sc_bad_cases / sizeof sc_bad_cases[0]; i++) {
    if ((strstr(sc_bad_cases[i].profile, "\"SCMP_ACT_NOTIFY\"}") || strstr(sc_bad_cases[i].profile, "FLAG_LOG")) &&
        !seccomp_api_full())
      continue; /* see seccomp_api_full(); a flag the API level lacks is refused */
    json_t *prof = js(sc_bad_cases[i].profile);
    edgecr_error_t err = NULL;
    struct edgecr_seccomp *s = (void *) 1;
    int r = edgecr_seccomp_build(prof, "c.json", &s, &err);
    json_decref(prof);
    if (r == 0) {
      edgecr_seccomp_free(s);
      print_error("case %zu accepted: %s\n", i, sc_bad_cases[i].profile);
      fail();
    }
    cleanup_free char *want = xasprintf("c.json: %s", sc_bad_cases[i].msg);
    if (!str_has_prefix(err->msg, want) || edgecr_error_errno(&err) != EINVAL) {
      print_error("case %zu\n  got:  %s\n  want: %s\n", i, err->msg, want);
      fail();
    }
    edgecr_seccomp_free(r == 0 ? s : NULL);
    edgecr_error_release(&err);
  }
}

/* sync.c: messages far larger than one socket buffer arrive whole;
 * malformed frames are errors, not hangs or truncation. */
static void test_sync_large_and_malformed(void **state)
{
  (void) state;
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  size_t n = 3 * 1024 * 1024;
  char *big = xmalloc0(n + 1);
  for (size_t i = 0; i < n; i++)
    big[i] = (char) ('a' + i % 26);
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    int ok = sync_send(sv[1], SYNC_HOOKS_DONE, 7, big) == 0 && sync_send(sv[1], SYNC_READY, 0, NULL) == 0;
    free(big);
    _exit(ok ? 0 : 1);
  }
  close(sv[1]);
  int code = 0;
  char *got = NULL;
  assert_int_equal(sync_recv(sv[0], &code, &got), SYNC_HOOKS_DONE);
  assert_int_equal(code, 7);
  assert_int_equal(strlen(got), n);
  assert_memory_equal(got, big, n);
  free(got);
  assert_int_equal(sync_recv(sv[0], &code, &got), SYNC_READY);
  assert_string_equal(got, "");
  free(got);
  assert_int_equal(sync_recv(sv[0], &code, NULL), 0); /* EOF */
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  close(sv[0]);
  free(big);

  /* a short packet, and a header announcing more than ever follows */
  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  assert_int_equal(send(sv[1], "abc", 3, 0), 3);
  errno = 0;
  assert_int_equal(sync_recv(sv[0], &code, &got), -1);
  assert_int_equal(errno, EBADMSG);
  int32_t hdr[3] = {SYNC_ERROR, 0, 100};
  assert_int_equal(send(sv[1], hdr, sizeof hdr, 0), (ssize_t) sizeof hdr);
  close(sv[1]);
  errno = 0;
  assert_int_equal(sync_recv(sv[0], &code, &got), -1);
  assert_int_equal(errno, EPIPE);
  close(sv[0]);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_secure_join),
    cmocka_unit_test(test_secure_join_link_budget),
    cmocka_unit_test(test_parse_cpu_list),
    cmocka_unit_test(test_find_executable),
    cmocka_unit_test(test_seccomp_valid),
    cmocka_unit_test(test_seccomp_same_arg_twice),
    cmocka_unit_test(test_seccomp_errors),
    cmocka_unit_test(test_sync_large_and_malformed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
