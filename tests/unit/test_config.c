/* test_config.c - unit tests for src/oci/config.c: a full runc-style
 * config.json parses into the expected structures; every kind of bad input
 * (wrong types, missing required fields, unknown names, duplicates,
 * conflicting mount options, inconsistent limits, host-changing sysctls,
 * unsupported features) is refused with one error naming the file, the
 * field path and the reason; the defaults the parser fills in (SCHED_DEADLINE
 * deadline/period, SCHED_FLAG_RESET_ON_FORK); mount options -> MS_* flags;
 * capability names; the strv helpers; oci_process_parse (exec --process). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "util.h"

#define FILE_NAME "/bundles/b1/config.json"

/* A complete config.json as runc's `spec` writes it, plus the optional
 * sections edgecr supports. */
static const char full_spec[] =
  "{\n"
  "  \"ociVersion\": \"1.2.0\",\n"
  "  \"process\": {\n"
  "    \"terminal\": true,\n"
  "    \"consoleSize\": {\"height\": 25, \"width\": 80},\n"
  "    \"user\": {\"uid\": 1000, \"gid\": 100, \"umask\": 18, \"additionalGids\": [5, 6]},\n"
  "    \"args\": [\"sh\", \"-c\", \"echo hi\"],\n"
  "    \"env\": [\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\", \"TERM=xterm\"],\n"
  "    \"cwd\": \"/work\",\n"
  "    \"capabilities\": {\n"
  "      \"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
  "      \"effective\": [\"CAP_AUDIT_WRITE\", \"cap_kill\"],\n"
  "      \"inheritable\": [],\n"
  "      \"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
  "      \"ambient\": [\"Cap_Net_Bind_Service\"]\n"
  "    },\n"
  "    \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 512},\n"
  "                {\"type\": \"RLIMIT_CORE\", \"hard\": 9223372036854775807, \"soft\": 0}],\n"
  "    \"noNewPrivileges\": true,\n"
  "    \"oomScoreAdj\": -500,\n"
  "    \"scheduler\": {\"policy\": \"SCHED_FIFO\", \"priority\": 10, \"flags\": [\"SCHED_FLAG_RESET_ON_FORK\"]},\n"
  "    \"ioPriority\": {\"class\": \"IOPRIO_CLASS_BE\", \"priority\": 4},\n"
  "    \"execCPUAffinity\": {\"initial\": \"0\", \"final\": \"0-1\"},\n"
  "    \"apparmorProfile\": \"\",\n"
  "    \"selinuxLabel\": \"system_u:system_r:container_t:s0\"\n"
  "  },\n"
  "  \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
  "  \"hostname\": \"box\",\n"
  "  \"domainname\": \"example.org\",\n"
  "  \"mounts\": [\n"
  "    {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
  "    {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
  "     \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
  "    {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
  "     \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\", \"gid=5\"]},\n"
  "    {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
  "     \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},\n"
  "    {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\",\n"
  "     \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]},\n"
  "    {\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"data\", \"options\": [\"rbind\", \"rw\", \"rslave\"]},\n"
  "    {\"destination\": \"etc/hosts\", \"source\": \"/etc/hosts\", \"options\": [\"bind\", \"ro\"]}\n"
  "  ],\n"
  "  \"hooks\": {\n"
  "    \"prestart\": [{\"path\": \"/bin/true\"}],\n"
  "    \"createRuntime\": [{\"path\": \"/bin/echo\", \"args\": [\"echo\", \"x\"], \"env\": [\"A=1\"], \"timeout\": 5}],\n"
  "    \"poststop\": [{\"path\": \"/bin/true\"}, {\"path\": \"/bin/false\"}]\n"
  "  },\n"
  "  \"annotations\": {\"org.example.key\": \"value\"},\n"
  "  \"linux\": {\n"
  "    \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],\n"
  "    \"gidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],\n"
  "    \"sysctl\": {\"net.ipv4.ip_forward\": \"1\", \"kernel.shmmax\": \"100000\", \"fs.mqueue.msg_max\": \"20\"},\n"
  "    \"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}], \"memory\": {\"limit\": 1048576}},\n"
  "    \"cgroupsPath\": \"/edgecr/b1\",\n"
  "    \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\", \"path\": \"/proc/1/ns/net\"}, {\"type\": \"ipc\"},\n"
  "                   {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"user\"}, {\"type\": \"cgroup\"},\n"
  "                   {\"type\": \"time\"}],\n"
  "    \"timeOffsets\": {\"monotonic\": {\"secs\": 1, \"nanosecs\": 0}},\n"
  "    \"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229, \"fileMode\": 438,\n"
  "                 \"uid\": 0, \"gid\": 0},\n"
  "                {\"path\": \"/dev/myfifo\", \"type\": \"p\"}],\n"
  "    \"maskedPaths\": [\"/proc/kcore\", \"/proc/keys\"],\n"
  "    \"readonlyPaths\": [\"/proc/sys\", \"/proc/sysrq-trigger\"],\n"
  "    \"rootfsPropagation\": \"rslave\",\n"
  "    \"personality\": {\"domain\": \"LINUX32\"},\n"
  "    \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\"},\n"
  "    \"mountLabel\": \"ignored\",\n"
  "    \"unknownFutureField\": {\"is\": \"ignored\"}\n"
  "  }\n"
  "}\n";

static struct oci_config *parse_ok(const char *text)
{
  struct oci_config *c = NULL;
  edgecr_error_t err = NULL;
  int r = oci_config_parse("/bundles/b1", FILE_NAME, text, &c, &err);
  if (r < 0) {
    print_error("unexpected error: %s\n", err->msg);
    edgecr_error_release(&err);
    fail();
  }
  assert_null(err);
  assert_non_null(c);
  return c;
}

static bool capset_has(const struct oci_capset *s, int cap)
{
  for (size_t i = 0; i < s->n; i++)
    if (s->caps[i] == cap)
      return true;
  return false;
}

static void test_full_spec(void **state)
{
  (void) state;
  cleanup_config struct oci_config *c = parse_ok(full_spec);
  assert_string_equal(c->path, FILE_NAME);
  assert_string_equal(c->bundle, "/bundles/b1");
  assert_string_equal(c->oci_version, "1.2.0");
  assert_string_equal(c->root_path, "/bundles/b1/rootfs");
  assert_true(c->root_readonly);
  assert_string_equal(c->hostname, "box");
  assert_string_equal(c->domainname, "example.org");

  struct oci_process *p = c->process;
  assert_non_null(p);
  assert_true(p->terminal);
  assert_int_equal(p->console_height, 25);
  assert_int_equal(p->console_width, 80);
  assert_int_equal(strv_len(p->args), 3);
  assert_string_equal(p->args[2], "echo hi");
  assert_int_equal(strv_len(p->env), 2);
  assert_string_equal(p->env[1], "TERM=xterm");
  assert_string_equal(p->cwd, "/work");
  assert_int_equal(p->user.uid, 1000);
  assert_int_equal(p->user.gid, 100);
  assert_true(p->user.has_umask);
  assert_int_equal(p->user.umask, 022);
  assert_int_equal(p->user.n_additional_gids, 2);
  assert_int_equal(p->user.additional_gids[1], 6);

  assert_true(p->bounding.present);
  assert_int_equal(p->bounding.n, 3);
  assert_true(capset_has(&p->bounding, CAP_NET_BIND_SERVICE));
  assert_true(capset_has(&p->effective, CAP_KILL)); /* lower-case name */
  assert_true(p->inheritable.present);              /* present but empty */
  assert_int_equal(p->inheritable.n, 0);
  assert_int_equal(p->ambient.n, 1);
  assert_int_equal(p->ambient.caps[0], CAP_NET_BIND_SERVICE);

  assert_int_equal(p->n_rlimits, 2);
  assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
  assert_int_equal(p->rlimits[0].soft, 512);
  assert_int_equal(p->rlimits[0].hard, 1024);
  assert_int_equal(p->rlimits[1].resource, RLIMIT_CORE);
  assert_true(p->rlimits[1].hard == 9223372036854775807ULL);
  assert_true(p->no_new_privileges);
  assert_true(p->has_oom_score_adj);
  assert_int_equal(p->oom_score_adj, -500);
  assert_true(p->scheduler.present);
  assert_int_equal(p->scheduler.policy, SCHED_FIFO);
  assert_int_equal(p->scheduler.priority, 10);
  assert_int_equal(p->scheduler.flags, 0x01);
  assert_true(p->has_io_priority);
  assert_int_equal(p->io_class, 2);
  assert_int_equal(p->io_priority, 4);
  assert_string_equal(p->exec_cpu_affinity_initial, "0");
  assert_string_equal(p->exec_cpu_affinity_final, "0-1");
  assert_string_equal(p->selinux_label, "system_u:system_r:container_t:s0");

  assert_int_equal(c->n_mounts, 7);
  assert_string_equal(c->mounts[0].type, "proc");
  assert_int_equal(c->mounts[0].flags, 0);
  assert_null(c->mounts[0].data);
  assert_int_equal(c->mounts[1].flags, MS_NOSUID | MS_STRICTATIME);
  assert_string_equal(c->mounts[1].data, "mode=755,size=65536k");
  assert_string_equal(c->mounts[2].data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  assert_int_equal(c->mounts[3].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
  assert_int_equal(c->mounts[4].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY);
  assert_true(c->mounts[5].bind);
  assert_true(c->mounts[5].recursive);
  assert_int_equal(c->mounts[5].clear_flags, MS_RDONLY);
  assert_int_equal(c->mounts[5].propagation, MS_SLAVE | MS_REC);
  assert_null(c->mounts[5].data);
  /* No type, "bind" option: a bind mount; relative destination kept. */
  assert_null(c->mounts[6].type);
  assert_true(c->mounts[6].bind);
  assert_false(c->mounts[6].recursive);
  assert_string_equal(c->mounts[6].destination, "etc/hosts");
  assert_int_equal(c->mounts[6].flags, MS_RDONLY);

  assert_int_equal(c->n_hooks[OCI_HOOK_PRESTART], 1);
  assert_int_equal(c->n_hooks[OCI_HOOK_CREATE_RUNTIME], 1);
  assert_int_equal(c->n_hooks[OCI_HOOK_CREATE_CONTAINER], 0);
  assert_int_equal(c->n_hooks[OCI_HOOK_POSTSTOP], 2);
  const struct oci_hook *h = &c->hooks[OCI_HOOK_CREATE_RUNTIME][0];
  assert_string_equal(h->path, "/bin/echo");
  assert_string_equal(h->args[1], "x");
  assert_string_equal(h->env[0], "A=1");
  assert_int_equal(h->timeout, 5);
  assert_int_equal(c->hooks[OCI_HOOK_PRESTART][0].timeout, 0);
  assert_string_equal(c->hooks[OCI_HOOK_POSTSTOP][1].path, "/bin/false");
  assert_string_equal(oci_hook_kind_name(OCI_HOOK_START_CONTAINER), "startContainer");

  assert_string_equal(json_string_value(json_object_get(c->annotations, "org.example.key")), "value");

  assert_true(c->has_linux);
  assert_int_equal(c->n_namespaces, 8);
  const struct oci_namespace *net = oci_config_namespace(c, CLONE_NEWNET);
  assert_non_null(net);
  assert_string_equal(net->path, "/proc/1/ns/net");
  assert_null(oci_config_namespace(c, CLONE_NEWPID)->path);
  assert_non_null(oci_config_namespace(c, CLONE_NEWTIME));
  assert_int_equal(c->n_uid_mappings, 1);
  assert_int_equal(c->uid_mappings[0].host_id, 100000);
  assert_int_equal(c->gid_mappings[0].size, 65536);
  assert_string_equal(c->cgroups_path, "/edgecr/b1");
  assert_true(json_is_object(c->resources));
  assert_int_equal(json_object_size(c->sysctl), 3);
  assert_true(json_is_object(c->seccomp));
  assert_int_equal(c->n_devices, 2);
  assert_int_equal(c->devices[0].type, 'c');
  assert_int_equal(c->devices[0].major, 10);
  assert_int_equal(c->devices[0].minor, 229);
  assert_true(c->devices[0].has_mode);
  assert_int_equal(c->devices[0].mode, 0666);
  assert_true(c->devices[0].has_uid);
  assert_int_equal(c->devices[1].type, 'p');
  assert_false(c->devices[1].has_mode);
  assert_int_equal(strv_len(c->masked_paths), 2);
  assert_string_equal(c->readonly_paths[1], "/proc/sysrq-trigger");
  assert_int_equal(c->rootfs_propagation, MS_SLAVE | MS_REC);
  assert_true(c->has_personality);
  assert_int_equal(c->personality, PER_LINUX32);
  assert_non_null(c->time_offsets);
  assert_non_null(c->doc);
}

/* The smallest valid document, and what absent sections mean. */
static const char minimal_spec[] =
  "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"/abs/rootfs\"},"
  " \"process\": {\"args\": [\"/bin/sh\"], \"cwd\": \"/\"}}";

static void test_minimal_spec(void **state)
{
  (void) state;
  cleanup_config struct oci_config *c = parse_ok(minimal_spec);
  assert_string_equal(c->root_path, "/abs/rootfs");
  assert_false(c->root_readonly);
  assert_null(c->hostname);
  assert_false(c->has_linux);
  assert_int_equal(c->n_namespaces, 0);
  assert_int_equal(c->n_mounts, 0);
  assert_non_null(c->process->env); /* absent env is an empty list */
  assert_null(c->process->env[0]);
  assert_int_equal(c->process->user.uid, 0);
  assert_false(c->process->user.has_umask);
  assert_false(c->process->bounding.present);
  assert_false(c->process->scheduler.present);
  assert_false(c->process->has_io_priority);
  assert_false(c->process->has_oom_score_adj);
  assert_true(json_is_object(c->annotations));
  assert_int_equal(json_object_size(c->annotations), 0);
  assert_null(c->resources);

  /* No process at all is valid (create with a process supplied later). */
  cleanup_config struct oci_config *c2 =
      parse_ok("{\"ociVersion\": \"1.1.0\", \"root\": {\"path\": \"r\"}, \"process\": null}");
  assert_null(c2->process);
}

/* ---- bad input: table driven ------------------------------------------ */

/* Recursively merge `patch` into `base`: objects merge, a JSON null deletes
 * the key, anything else replaces. */
static void merge(json_t *base, json_t *patch)
{
  const char *k;
  json_t *v;
  json_object_foreach(patch, k, v) {
    json_t *cur = json_object_get(base, k);
    if (json_is_null(v))
      json_object_del(base, k);
    else if (json_is_object(v) && json_is_object(cur))
      merge(cur, v);
    else
      json_object_set(base, k, v);
  }
}

static const char base_doc[] =
  "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"},"
  " \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}},"
  " \"linux\": {\"namespaces\": [{\"type\": \"mount\"}, {\"type\": \"pid\"}]}}";

static char *patched(const char *patch_text)
{
  json_error_t jerr;
  json_t *base = json_loads(base_doc, 0, &jerr);
  assert_non_null(base);
  json_t *patch = json_loads(patch_text, 0, &jerr);
  if (patch == NULL) {
    print_error("bad patch in the test itself: %s: %s\n", patch_text, jerr.text);
    fail();
  }
  merge(base, patch);
  char *text = json_dumps(base, JSON_COMPACT);
  json_decref(base);
  json_decref(patch);
  return text;
}

/* Parse must fail; returns the message (caller frees). */
static char *parse_error(const char *text)
{
  struct oci_config *c = NULL;
  edgecr_error_t err = NULL;
  int r = oci_config_parse("/bundles/b1", FILE_NAME, text, &c, &err);
  if (r == 0) {
    oci_config_free(c);
    print_error("accepted, but should have been refused: %s\n", text);
    fail();
  }
  assert_int_equal(r, -1);
  assert_null(c);
  assert_non_null(err);
  assert_int_equal(edgecr_error_errno(&err), EINVAL);
  char *msg = xstrdup(err->msg);
  edgecr_error_release(&err);
  return msg;
}

struct bad_case {
  const char *patch;   /* merged into base_doc */
  const char *field;   /* field path in the message */
  const char *reason;  /* substring of the reason */
};

static const struct bad_case bad_cases[] = {
  /* top level */
  {"{\"ociVersion\": null}", "ociVersion", "missing (required)"},
  {"{\"ociVersion\": 1}", "ociVersion", "must be a string"},
  {"{\"ociVersion\": \"2.0.0\"}", "ociVersion", "unsupported version `2.0.0`"},
  {"{\"root\": null}", "root", "missing (required)"},
  {"{\"root\": \"rootfs\"}", "root", "must be an object"},
  {"{\"root\": {\"path\": null}}", "root.path", "missing (required)"},
  {"{\"root\": {\"readonly\": \"yes\"}}", "root.readonly", "must be true or false"},
  {"{\"hostname\": 7}", "hostname", "must be a string"},
  {"{\"hostname\": \"h\"}", "hostname", "needs a uts namespace"},
  {"{\"domainname\": \"d\"}", "domainname", "needs a uts namespace"},
  {"{\"annotations\": {\"a\": 1}}", "annotations.a", "must be a string"},
  {"{\"annotations\": []}", "annotations", "must be an object"},
  /* process */
  {"{\"process\": []}", "process", "must be an object"},
  {"{\"process\": {\"args\": null}}", "process.args", "missing (required)"},
  {"{\"process\": {\"args\": []}}", "process.args", "must not be empty"},
  {"{\"process\": {\"args\": \"sh\"}}", "process.args", "must be an array of strings"},
  {"{\"process\": {\"args\": [\"sh\", 2]}}", "process.args[1]", "must be a string"},
  {"{\"process\": {\"env\": [\"A=1\", \"NOVALUE\"]}}", "process.env[1]", "`NOVALUE` is not of the form KEY=VALUE"},
  {"{\"process\": {\"cwd\": null}}", "process.cwd", "missing (required)"},
  {"{\"process\": {\"cwd\": \"work\"}}", "process.cwd", "must be an absolute path (got `work`)"},
  {"{\"process\": {\"terminal\": 1}}", "process.terminal", "must be true or false"},
  {"{\"process\": {\"consoleSize\": {\"height\": -1}}}", "process.consoleSize.height", "out of range"},
  {"{\"process\": {\"user\": {\"uid\": \"0\"}}}", "process.user.uid", "must be an integer"},
  {"{\"process\": {\"user\": {\"uid\": -1}}}", "process.user.uid", "-1 is out of range"},
  {"{\"process\": {\"user\": {\"gid\": 1.5}}}", "process.user.gid", "must be an integer"},
  {"{\"process\": {\"user\": {\"umask\": 512}}}", "process.user.umask", "out of range"},
  {"{\"process\": {\"user\": {\"additionalGids\": [1, -2]}}}", "process.user.additionalGids[1]",
   "must be an unsigned integer"},
  {"{\"process\": {\"user\": {\"additionalGids\": 5}}}", "process.user.additionalGids", "must be an array"},
  {"{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_FOO\", \"soft\": 1, \"hard\": 1}]}}", "process.rlimits[0].type",
   "unknown rlimit `RLIMIT_FOO`"},
  {"{\"process\": {\"rlimits\": [{\"soft\": 1, \"hard\": 1}]}}", "process.rlimits[0].type", "missing (required)"},
  {"{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 10, \"hard\": 5}]}}",
   "process.rlimits[0].soft", "soft limit 10 exceeds hard limit 5"},
  {"{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1}]}}", "process.rlimits[0].hard",
   "missing (required)"},
  {"{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": -1, \"hard\": 1}]}}",
   "process.rlimits[0].soft", "must not be negative"},
  {"{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": \"1\", \"hard\": 1}]}}",
   "process.rlimits[0].soft", "must be an unsigned integer"},
  {"{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1, \"hard\": 1},"
   " {\"type\": \"RLIMIT_CPU\", \"soft\": 1, \"hard\": 1}, {\"type\": \"RLIMIT_NOFILE\", \"soft\": 1, \"hard\": 1}]}}",
   "process.rlimits[2].type", "`RLIMIT_NOFILE` is given twice"},
  {"{\"process\": {\"rlimits\": [3]}}", "process.rlimits[0]", "must be an object"},
  {"{\"process\": {\"capabilities\": {\"effective\": \"CAP_KILL\"}}}", "process.capabilities.effective",
   "must be an array of capability names"},
  {"{\"process\": {\"capabilities\": {\"inheritable\": [1]}}}", "process.capabilities.inheritable[0]",
   "must be a string"},
  {"{\"process\": {\"noNewPrivileges\": \"true\"}}", "process.noNewPrivileges", "must be true or false"},
  {"{\"process\": {\"oomScoreAdj\": 1001}}", "process.oomScoreAdj", "1001 is out of range [-1000, 1000]"},
  {"{\"process\": {\"scheduler\": {\"policy\": \"SCHED_FAST\"}}}", "process.scheduler.policy",
   "unknown policy `SCHED_FAST`"},
  {"{\"process\": {\"scheduler\": {\"priority\": 1}}}", "process.scheduler.policy", "missing (required)"},
  {"{\"process\": {\"scheduler\": {\"policy\": \"SCHED_ISO\"}}}", "process.scheduler.policy",
   "SCHED_ISO is not supported"},
  {"{\"process\": {\"scheduler\": {\"policy\": \"SCHED_FIFO\"}}}", "process.scheduler.priority",
   "SCHED_FIFO needs a priority from 1 to 99"},
  {"{\"process\": {\"scheduler\": {\"policy\": \"SCHED_RR\", \"priority\": 100}}}", "process.scheduler.priority",
   "out of range"},
  {"{\"process\": {\"scheduler\": {\"policy\": \"SCHED_OTHER\", \"priority\": 5}}}", "process.scheduler.priority",
   "must be 0 for SCHED_OTHER"},
  {"{\"process\": {\"scheduler\": {\"policy\": \"SCHED_OTHER\", \"nice\": 20}}}", "process.scheduler.nice",
   "out of range"},
  {"{\"process\": {\"scheduler\": {\"policy\": \"SCHED_BATCH\", \"flags\": [\"SCHED_FLAG_FAST\"]}}}",
   "process.scheduler.flags[0]", "unknown scheduler flag"},
  {"{\"process\": {\"scheduler\": {\"policy\": \"SCHED_FIFO\", \"priority\": 1, \"runtime\": 1000}}}",
   "process.scheduler", "apply to SCHED_DEADLINE only"},
  {"{\"process\": {\"scheduler\": {\"policy\": \"SCHED_DEADLINE\", \"deadline\": 10000}}}",
   "process.scheduler.runtime", "SCHED_DEADLINE needs a runtime"},
  {"{\"process\": {\"scheduler\": {\"policy\": \"SCHED_DEADLINE\", \"runtime\": 10000}}}",
   "process.scheduler.deadline", "needs a deadline or a period"},
  {"{\"process\": {\"scheduler\": {\"policy\": \"SCHED_DEADLINE\", \"runtime\": 1000, \"deadline\": 2000}}}",
   "process.scheduler.runtime", "1000 ns is below the kernel's minimum of 1024 ns"},
  {"{\"process\": {\"scheduler\": {\"policy\": \"SCHED_DEADLINE\", \"runtime\": 20000, \"deadline\": 10000,"
   " \"period\": 30000}}}",
   "process.scheduler", "runtime <= deadline <= period (got 20000, 10000, 30000 ns)"},
  {"{\"process\": {\"scheduler\": {\"policy\": \"SCHED_DEADLINE\", \"runtime\": 10000, \"deadline\": 30000,"
   " \"period\": 20000}}}",
   "process.scheduler", "runtime <= deadline <= period (got 10000, 30000, 20000 ns)"},
  {"{\"process\": {\"scheduler\": {\"policy\": \"SCHED_DEADLINE\", \"runtime\": -5, \"deadline\": 30000}}}",
   "process.scheduler.runtime", "must not be negative"},
  {"{\"process\": {\"ioPriority\": {\"class\": \"IOPRIO_CLASS_FAST\"}}}", "process.ioPriority.class",
   "unknown class `IOPRIO_CLASS_FAST`"},
  {"{\"process\": {\"ioPriority\": {\"class\": \"IOPRIO_CLASS_RT\", \"priority\": 8}}}",
   "process.ioPriority.priority", "out of range"},
  {"{\"process\": {\"execCPUAffinity\": {\"initial\": 0}}}", "process.execCPUAffinity.initial", "must be a string"},
  /* mounts */
  {"{\"mounts\": {}}", "mounts", "must be an array"},
  {"{\"mounts\": [\"/proc\"]}", "mounts[0]", "must be an object"},
  {"{\"mounts\": [{\"type\": \"proc\"}]}", "mounts[0].destination", "missing (required)"},
  {"{\"mounts\": [{\"destination\": \"\", \"type\": \"proc\"}]}", "mounts[0].destination", "must not be empty"},
  {"{\"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\"}, {\"destination\": \"/x\"}]}", "mounts[1].type",
   "needs a type unless it is a bind mount"},
  {"{\"mounts\": [{\"destination\": \"/x\", \"type\": \"bind\"}]}", "mounts[0].source", "a bind mount needs a source"},
  {"{\"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\", \"options\": [\"ro\", \"rw\"]}]}",
   "mounts[0].options", "`rw` contradicts an earlier option"},
  {"{\"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\", \"options\": [\"suid\", \"nodev\", \"nosuid\"]}]}",
   "mounts[0].options", "`nosuid` contradicts an earlier option"},
  {"{\"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\", \"options\": [\"private\", \"rshared\"]}]}",
   "mounts[0].options", "conflicting propagation options `private` and `rshared`"},
  {"{\"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\", \"options\": \"ro\"}]}", "mounts[0].options",
   "must be an array of strings"},
  /* hooks */
  {"{\"hooks\": []}", "hooks", "must be an object"},
  {"{\"hooks\": {\"prestart\": {}}}", "hooks.prestart", "must be an array"},
  {"{\"hooks\": {\"poststart\": [{\"path\": \"bin/hook\"}]}}", "hooks.poststart[0].path",
   "must be an absolute path (got `bin/hook`)"},
  {"{\"hooks\": {\"createContainer\": [{\"args\": []}]}}", "hooks.createContainer[0].path", "missing (required)"},
  {"{\"hooks\": {\"startContainer\": [{\"path\": \"/h\", \"timeout\": 0}]}}", "hooks.startContainer[0].timeout",
   "0 is out of range"},
  {"{\"hooks\": {\"poststop\": [{\"path\": \"/h\", \"env\": [1]}]}}", "hooks.poststop[0].env[0]", "must be a string"},
  /* linux */
  {"{\"linux\": []}", "linux", "must be an object"},
  {"{\"linux\": {\"namespaces\": [{\"type\": \"mount\"}, {\"type\": \"vm\"}]}}", "linux.namespaces[1].type",
   "unknown namespace type `vm`"},
  {"{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"pid\"}]}}",
   "linux.namespaces[2].type", "duplicate namespace `pid`"},
  {"{\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"proc/1/ns/net\"}]}}",
   "linux.namespaces[0].path", "must be an absolute path"},
  {"{\"linux\": {\"namespaces\": [{\"path\": \"/proc/1/ns/net\"}]}}", "linux.namespaces[0].type", "missing (required)"},
  {"{\"linux\": {\"namespaces\": [\"pid\"]}}", "linux.namespaces[0]", "must be an object"},
  {"{\"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],"
   " \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]}}",
   "linux.uidMappings", "id mappings need a user namespace"},
  {"{\"linux\": {\"namespaces\": [{\"type\": \"user\"}]}}", "linux.namespaces",
   "a new user namespace needs linux.uidMappings and linux.gidMappings"},
  {"{\"linux\": {\"namespaces\": [{\"type\": \"user\"}], \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1}]}}",
   "linux.uidMappings[0]", "needs containerID, hostID and size"},
  {"{\"linux\": {\"namespaces\": [{\"type\": \"user\"}], \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1,"
   " \"size\": 0}]}}",
   "linux.gidMappings[0].size", "0 is out of range"},
  {"{\"linux\": {\"devices\": [{\"path\": \"/dev/x\", \"type\": \"x\", \"major\": 1, \"minor\": 1}]}}",
   "linux.devices[0].type", "unknown device type `x`"},
  {"{\"linux\": {\"devices\": [{\"path\": \"/dev/x\", \"type\": \"c\", \"major\": 1}]}}", "linux.devices[0]",
   "a `c` device needs major and minor numbers"},
  {"{\"linux\": {\"devices\": [{\"path\": \"dev/x\", \"type\": \"p\"}]}}", "linux.devices[0].path",
   "must be an absolute path"},
  {"{\"linux\": {\"devices\": [{\"path\": \"/dev/x\", \"type\": \"b\", \"major\": 1, \"minor\": 2,"
   " \"fileMode\": 65535}]}}",
   "linux.devices[0].fileMode", "out of range"},
  {"{\"linux\": {\"cgroupsPath\": 5}}", "linux.cgroupsPath", "must be a string"},
  {"{\"linux\": {\"resources\": []}}", "linux.resources", "must be an object"},
  {"{\"linux\": {\"sysctl\": {\"kernel.panic\": \"1\"}}}", "linux.sysctl.kernel.panic",
   "not a namespaced sysctl: it would change the host"},
  {"{\"linux\": {\"sysctl\": {\"net.ipv4.ip_forward\": \"1\"}}}", "linux.sysctl.net.ipv4.ip_forward",
   "needs a network namespace (it would change the host)"},
  {"{\"linux\": {\"sysctl\": {\"kernel.msgmax\": \"1\"}}}", "linux.sysctl.kernel.msgmax",
   "needs an ipc namespace (it would change the host)"},
  {"{\"hostname\": \"x\", \"linux\": {\"namespaces\": [{\"type\": \"uts\"}], \"sysctl\": {\"kernel.hostname\": \"x\"}}}",
   "linux.sysctl.kernel.hostname", "set the host name with `hostname`, not sysctl"},
  {"{\"domainname\": \"y\", \"linux\": {\"namespaces\": [{\"type\": \"uts\"}], \"sysctl\": {\"kernel.domainname\": \"x\"}}}",
   "linux.sysctl.kernel.domainname", "`x` contradicts `domainname` (`y`)"},
  {"{\"linux\": {\"sysctl\": {\"kernel.domainname\": \"x\"}}}",
   "linux.sysctl.kernel.domainname", "needs a uts namespace"},
  {"{\"linux\": {\"namespaces\": [{\"type\": \"network\"}], \"sysctl\": {\"net.core.somaxconn\": 1024}}}",
   "linux.sysctl.net.core.somaxconn", "must be a string"},
  {"{\"linux\": {\"seccomp\": \"default\"}}", "linux.seccomp", "must be an object"},
  {"{\"linux\": {\"maskedPaths\": [\"/proc/kcore\", null]}}", "linux.maskedPaths[1]", "must be a string"},
  {"{\"linux\": {\"rootfsPropagation\": \"sideways\"}}", "linux.rootfsPropagation", "unknown propagation `sideways`"},
  {"{\"linux\": {\"personality\": {\"domain\": \"WIN32\"}}}", "linux.personality.domain", "unknown domain `WIN32`"},
  {"{\"linux\": {\"personality\": {}}}", "linux.personality.domain", "missing (required)"},
  {"{\"linux\": {\"timeOffsets\": {\"boottime\": {\"secs\": 1}}}}", "linux.timeOffsets", "need a time namespace"},
  {"{\"linux\": {\"intelRdt\": {\"closID\": \"x\"}}}", "linux.intelRdt", "Intel RDT is not supported"},
};

static void test_bad_inputs(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    const struct bad_case *bc = &bad_cases[i];
    cleanup_free char *text = patched(bc->patch);
    cleanup_free char *msg = parse_error(text);
    cleanup_free char *want = xasprintf("%s: `%s`: ", FILE_NAME, bc->field);
    if (!str_has_prefix(msg, want) || strstr(msg, bc->reason) == NULL) {
      print_error("case %zu (%s)\n  got:  %s\n  want: %s...%s\n", i, bc->patch, msg, want, bc->reason);
      fail();
    }
  }
}

static void test_bad_documents(void **state)
{
  (void) state;
  cleanup_free char *m1 = parse_error("{\"ociVersion\": \"1.2.0\",\n \"root\": }");
  assert_true(str_has_prefix(m1, FILE_NAME ":2:"));
  assert_non_null(strstr(m1, "invalid JSON"));
  /* A duplicated key would make one of the two values silently win. */
  cleanup_free char *m2 = parse_error("{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"a\"}, \"root\": {\"path\": \"b\"}}");
  assert_non_null(strstr(m2, "invalid JSON"));
  assert_non_null(strstr(m2, "root"));
  cleanup_free char *m3 = parse_error("[1, 2]");
  assert_string_equal(m3, FILE_NAME ": `(top level)`: must be a JSON object");
  cleanup_free char *m4 = parse_error("");
  assert_non_null(strstr(m4, "invalid JSON"));
}

/* Sysctls that are namespaced are accepted with their namespace. */
static void test_sysctl_namespaced(void **state)
{
  (void) state;
  cleanup_free char *t = patched("{\"linux\": {\"namespaces\": [{\"type\": \"network\"}, {\"type\": \"ipc\"}],"
                                 " \"sysctl\": {\"net.ipv4.ping_group_range\": \"0 0\", \"kernel.sem\": \"1 2 3 4\","
                                 " \"kernel.shmall\": \"1\", \"fs.mqueue.queues_max\": \"8\"}}}");
  cleanup_config struct oci_config *c = parse_ok(t);
  assert_int_equal(json_object_size(c->sysctl), 4);
  /* A user namespace joined by path needs no mappings. */
  cleanup_free char *t2 = patched("{\"linux\": {\"namespaces\": [{\"type\": \"user\", \"path\": \"/proc/1/ns/user\"}]}}");
  cleanup_config struct oci_config *c2 = parse_ok(t2);
  assert_string_equal(oci_config_namespace(c2, CLONE_NEWUSER)->path, "/proc/1/ns/user");
  /* An empty namespace path means "new namespace". */
  cleanup_free char *t3 = patched("{\"linux\": {\"namespaces\": [{\"type\": \"ipc\", \"path\": \"\"}]}}");
  cleanup_config struct oci_config *c3 = parse_ok(t3);
  assert_null(oci_config_namespace(c3, CLONE_NEWIPC)->path);
  assert_null(oci_config_namespace(c3, CLONE_NEWPID));
}

/* RLIM_INFINITY is 2^64-1; clients built on Go's uint64 (docker --ulimit
 * x=-1:-1, runc's spec) write it as 18446744073709551615.  config.c's
 * get_u64 means to accept it ("beyond INT64_MAX arrive as reals"), but the
 * document must first get through json_loads. */
static void test_rlimit_unlimited_u64(void **state)
{
  (void) state;
  const char text[] =
    "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"},"
    " \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"rlimits\": [{\"type\": \"RLIMIT_MEMLOCK\","
    " \"soft\": 18446744073709551615, \"hard\": 18446744073709551615}]}}";
  cleanup_config struct oci_config *c = parse_ok(text);
  assert_int_equal(c->process->n_rlimits, 1);
  assert_true(c->process->rlimits[0].soft == ~0ull);
  assert_true(c->process->rlimits[0].hard == ~0ull);
}

/* Capability names this host does not know are kept aside (create warns
 * about them), not refused: runc and crun ignore them too. */
static void test_unknown_capabilities_ignored(void **state)
{
  (void) state;
  const char text[] =
    "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"},"
    " \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"capabilities\": {"
    " \"bounding\": [\"CAP_KILL\", \"CAP_FLY\", \"KILL\"], \"permitted\": [\"CAP_5\"]}}}";
  cleanup_config struct oci_config *c = parse_ok(text);
  assert_int_equal(c->process->bounding.n, 1);
  assert_int_equal(c->process->bounding.caps[0], CAP_KILL);
  assert_string_equal(c->process->bounding.unknown, "CAP_FLY, KILL");
  assert_int_equal(c->process->permitted.n, 0);
  assert_string_equal(c->process->permitted.unknown, "CAP_5");
  assert_null(c->process->effective.unknown);
}

/* ---- scheduler defaults ----------------------------------------------- */

static void test_deadline_defaults(void **state)
{
  (void) state;
  /* deadline defaults to period */
  cleanup_free char *t1 = patched("{\"process\": {\"scheduler\": {\"policy\": \"SCHED_DEADLINE\","
                                  " \"runtime\": 100000, \"period\": 1000000}}}");
  cleanup_config struct oci_config *c1 = parse_ok(t1);
  const struct oci_scheduler *s = &c1->process->scheduler;
  assert_int_equal(s->policy, 6 /* SCHED_DEADLINE */);
  assert_int_equal(s->runtime, 100000);
  assert_int_equal(s->deadline, 1000000);
  assert_int_equal(s->period, 1000000);
  assert_int_equal(s->flags, 0x01); /* SCHED_FLAG_RESET_ON_FORK added */

  /* period defaults to deadline; explicit flags are kept */
  cleanup_free char *t2 = patched("{\"process\": {\"scheduler\": {\"policy\": \"SCHED_DEADLINE\","
                                  " \"runtime\": 2000, \"deadline\": 5000, \"flags\": [\"SCHED_FLAG_RECLAIM\","
                                  " \"SCHED_FLAG_DL_OVERRUN\"]}}}");
  cleanup_config struct oci_config *c2 = parse_ok(t2);
  s = &c2->process->scheduler;
  assert_int_equal(s->deadline, 5000);
  assert_int_equal(s->period, 5000);
  assert_int_equal(s->flags, 0x01 | 0x02 | 0x04);

  /* runtime == deadline == period is allowed (100 %) */
  cleanup_free char *t3 = patched("{\"process\": {\"scheduler\": {\"policy\": \"SCHED_DEADLINE\","
                                  " \"runtime\": 1024, \"deadline\": 1024, \"period\": 1024}}}");
  cleanup_config struct oci_config *c3 = parse_ok(t3);
  assert_int_equal(c3->process->scheduler.runtime, 1024);

  /* Non-deadline policies get no implicit flags. */
  cleanup_free char *t4 = patched("{\"process\": {\"scheduler\": {\"policy\": \"SCHED_RR\", \"priority\": 99,"
                                  " \"nice\": -20}}}");
  cleanup_config struct oci_config *c4 = parse_ok(t4);
  assert_int_equal(c4->process->scheduler.policy, SCHED_RR);
  assert_int_equal(c4->process->scheduler.flags, 0);
  assert_int_equal(c4->process->scheduler.nice, -20);
  cleanup_free char *t5 = patched("{\"process\": {\"scheduler\": {\"policy\": \"SCHED_IDLE\"}}}");
  cleanup_config struct oci_config *c5 = parse_ok(t5);
  assert_int_equal(c5->process->scheduler.policy, SCHED_IDLE);
}

/* ---- names and flags --------------------------------------------------- */

static void test_mount_options(void **state)
{
  (void) state;
  struct oci_mount m = {0};
  assert_true(oci_mount_option("ro", &m));
  assert_int_equal(m.flags, MS_RDONLY);
  assert_true(oci_mount_option("rw", &m)); /* later clears: recorded */
  assert_int_equal(m.flags, 0);
  assert_int_equal(m.clear_flags, MS_RDONLY);
  assert_true(oci_mount_option("nosuid", &m));
  assert_true(oci_mount_option("nodev", &m));
  assert_true(oci_mount_option("noexec", &m));
  assert_true(oci_mount_option("sync", &m));
  assert_true(oci_mount_option("dirsync", &m));
  assert_true(oci_mount_option("noatime", &m));
  assert_true(oci_mount_option("nodiratime", &m));
  assert_int_equal(m.flags, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS | MS_DIRSYNC | MS_NOATIME | MS_NODIRATIME);
  assert_true(oci_mount_option("exec", &m));
  assert_int_equal(m.flags & MS_NOEXEC, 0);
  assert_int_equal(m.clear_flags, MS_RDONLY | MS_NOEXEC);
  assert_true(oci_mount_option("rprivate", &m));
  assert_int_equal(m.propagation, MS_PRIVATE | MS_REC);
  assert_true(oci_mount_option("unbindable", &m));
  assert_int_equal(m.propagation, MS_UNBINDABLE);
  assert_false(m.bind);
  assert_true(oci_mount_option("rbind", &m));
  assert_true(m.bind);
  assert_true(m.recursive);

  struct oci_mount b = {0};
  assert_true(oci_mount_option("bind", &b));
  assert_true(b.bind);
  assert_false(b.recursive);
  assert_true(oci_mount_option("relatime", &b));
  assert_true(oci_mount_option("strictatime", &b));
  assert_true(oci_mount_option("mand", &b));
  assert_true(oci_mount_option("silent", &b));
  assert_int_equal(b.flags, MS_RELATIME | MS_STRICTATIME | MS_MANDLOCK | MS_SILENT);
  assert_true(oci_mount_option("remount", &b));
  assert_true(b.flags & MS_REMOUNT);
  /* accepted without effect */
  unsigned long before = b.flags;
  assert_true(oci_mount_option("defaults", &b));
  assert_int_equal(b.flags, before);
  /* not flags: parse_mounts handles tmpcopyup and idmap (never ignored) */
  assert_false(oci_mount_option("tmpcopyup", &b));
  assert_false(oci_mount_option("idmap", &b));
  /* filesystem data, not flags */
  assert_false(oci_mount_option("size=10m", &b));
  assert_false(oci_mount_option("mode=0755", &b));
  assert_false(oci_mount_option("RO", &b)); /* case-sensitive, like mount(8) */
  assert_false(oci_mount_option("", &b));
}

static void test_capability_names(void **state)
{
  (void) state;
  assert_int_equal(oci_capability_number("CAP_CHOWN"), CAP_CHOWN);
  assert_int_equal(oci_capability_number("cap_chown"), CAP_CHOWN);
  assert_int_equal(oci_capability_number("Cap_Sys_Admin"), CAP_SYS_ADMIN);
  assert_int_equal(oci_capability_number("CAP_NET_RAW"), CAP_NET_RAW);
  assert_int_equal(oci_capability_number("CAP_AUDIT_READ"), CAP_AUDIT_READ);
  assert_int_equal(oci_capability_number("CHOWN"), -1);   /* prefix required */
  assert_int_equal(oci_capability_number("CAP_"), -1);
  assert_int_equal(oci_capability_number("CAP_0"), -1);   /* numbers are libcap's, not the spec's */
  assert_int_equal(oci_capability_number("CAP_CHOWNX"), -1);
  assert_int_equal(oci_capability_number(""), -1);
  char longname[200];
  memset(longname, 'A', sizeof longname - 1);
  memcpy(longname, "CAP_", 4);
  longname[sizeof longname - 1] = '\0';
  assert_int_equal(oci_capability_number(longname), -1);
}

static void test_namespace_and_rlimit_names(void **state)
{
  (void) state;
  static const char *names[] = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    int t = oci_namespace_type(names[i]);
    assert_true(t > 0);
    assert_string_equal(oci_namespace_name(t), names[i]);
  }
  assert_int_equal(oci_namespace_type("net"), -1); /* the spec spells it "network" */
  assert_int_equal(oci_namespace_type("PID"), -1);
  assert_int_equal(oci_namespace_type("mount"), CLONE_NEWNS);
  assert_string_equal(oci_namespace_name(0x12345), "?");
  assert_string_equal(oci_rlimit_name(RLIMIT_NOFILE), "RLIMIT_NOFILE");
  assert_string_equal(oci_rlimit_name(RLIMIT_RTTIME), "RLIMIT_RTTIME");
  assert_string_equal(oci_rlimit_name(999), "?");
}

static void test_strv(void **state)
{
  (void) state;
  assert_int_equal(strv_len(NULL), 0);
  char *src[] = {"a", "bb", "", NULL};
  assert_int_equal(strv_len(src), 3);
  char **d = strv_dup(src);
  assert_int_equal(strv_len(d), 3);
  assert_ptr_not_equal(d[1], src[1]);
  assert_string_equal(d[1], "bb");
  assert_string_equal(d[2], "");
  assert_null(d[3]);
  strv_free(d);
  char **e = strv_dup(NULL);
  assert_non_null(e);
  assert_null(e[0]);
  strv_free(e);
  strv_free(NULL);
}

/* ---- exec --process ------------------------------------------------------ */

static void test_process_parse(void **state)
{
  (void) state;
  json_error_t jerr;
  json_t *doc = json_loads("{\"args\": [\"ls\", \"-l\"], \"cwd\": \"/tmp\", \"env\": [\"A=b=c\"],"
                           " \"user\": {\"uid\": 5, \"gid\": 6}, \"terminal\": false,"
                           " \"capabilities\": {\"effective\": [\"CAP_KILL\"]}}", 0, &jerr);
  assert_non_null(doc);
  struct oci_process *p = NULL;
  edgecr_error_t err = NULL;
  assert_int_equal(oci_process_parse(doc, "/tmp/p.json", "process", &p, &err), 0);
  assert_null(err);
  assert_string_equal(p->args[1], "-l");
  assert_string_equal(p->env[0], "A=b=c");
  assert_string_equal(p->cwd, "/tmp");
  assert_int_equal(p->user.uid, 5);
  assert_int_equal(p->effective.caps[0], CAP_KILL);
  oci_process_free(p);
  json_decref(doc);

  doc = json_loads("{\"args\": [\"ls\"], \"cwd\": \"tmp\"}", 0, &jerr);
  p = NULL;
  assert_int_equal(oci_process_parse(doc, "/tmp/p.json", "process", &p, &err), -1);
  assert_null(p);
  assert_string_equal(err->msg, "/tmp/p.json: `process.cwd`: must be an absolute path (got `tmp`)");
  edgecr_error_release(&err);
  json_decref(doc);

  doc = json_loads("{\"cwd\": \"/\", \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 2, \"hard\": 1}]}", 0, &jerr);
  assert_int_equal(oci_process_parse(doc, "p.json", "process", &p, &err), -1);
  assert_non_null(strstr(err->msg, "`process.args`: missing (required)"));
  edgecr_error_release(&err);
  json_decref(doc);

  doc = json_loads("[\"ls\"]", 0, &jerr);
  assert_int_equal(oci_process_parse(doc, "p.json", "process", &p, &err), -1);
  assert_non_null(strstr(err->msg, "p.json: `process`: must be an object"));
  edgecr_error_release(&err);
  json_decref(doc);
}

/* oci_config_load: reads <bundle>/config.json, makes the bundle absolute. */
static void test_config_load(void **state)
{
  (void) state;
  char dir[] = "/tmp/edgecr-unit-cfg-XXXXXX";
  assert_non_null(mkdtemp(dir));
  edgecr_error_t err = NULL;
  struct oci_config *c = NULL;
  /* missing file: the error names it */
  assert_int_equal(oci_config_load(dir, &c, &err), -1);
  assert_int_equal(edgecr_error_errno(&err), ENOENT);
  assert_non_null(strstr(err->msg, "config.json"));
  edgecr_error_release(&err);
  cleanup_free char *cfg = xasprintf("%s/config.json", dir);
  assert_int_equal(write_file_atomic(cfg, minimal_spec, strlen(minimal_spec), 0600, &err), 0);
  cleanup_free char *cwd = getcwd(NULL, 0);
  assert_int_equal(chdir("/tmp"), 0);
  assert_int_equal(oci_config_load(dir + strlen("/tmp/"), &c, &err), 0);
  assert_int_equal(chdir(cwd), 0);
  assert_string_equal(c->bundle, dir);
  assert_string_equal(c->path, cfg);
  oci_config_free(c);
  /* errors name the real path of the file */
  const char bad[] = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": 1}}";
  assert_int_equal(write_file_atomic(cfg, bad, strlen(bad), 0600, &err), 0);
  assert_int_equal(oci_config_load(dir, &c, &err), -1);
  cleanup_free char *want = xasprintf("%s: `root.path`: must be a string", cfg);
  assert_true(str_has_prefix(err->msg, want));
  edgecr_error_release(&err);
  assert_int_equal(oci_config_load("/nonexistent/bundle", &c, &err), -1);
  assert_non_null(strstr(err->msg, "/nonexistent/bundle"));
  edgecr_error_release(&err);
  assert_int_equal(remove_tree(dir, &err), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_full_spec),
    cmocka_unit_test(test_minimal_spec),
    cmocka_unit_test(test_bad_inputs),
    cmocka_unit_test(test_bad_documents),
    cmocka_unit_test(test_sysctl_namespaced),
    cmocka_unit_test(test_rlimit_unlimited_u64),
    cmocka_unit_test(test_deadline_defaults),
    cmocka_unit_test(test_mount_options),
    cmocka_unit_test(test_capability_names),
    cmocka_unit_test(test_namespace_and_rlimit_names),
    cmocka_unit_test(test_unknown_capabilities_ignored),
    cmocka_unit_test(test_strv),
    cmocka_unit_test(test_process_parse),
    cmocka_unit_test(test_config_load),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
