/* cgroup_bpf.c - OCI device rules -> a BPF_PROG_TYPE_CGROUP_DEVICE program.
 *
 * Semantics follow cgroup v1's device files, which the OCI rules were
 * written for: rules apply in order and a later rule overrides an earlier
 * one, and a rule of type `a` with any major/minor resets the default (deny
 * all or allow all) and cancels the rules before it.  So the program checks
 * the remaining rules from last to first; the first that matches decides,
 * and if none does, the default applies.  An allow rule matches a request
 * whose access bits are all granted by the rule; a deny rule matches a
 * request with any access bit in common with it. */
#include "cgroup_bpf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* Instruction builders (the kernel's uapi has no macros for them). */
static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  struct bpf_insn i = {.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
  return i;
}
#define LDX_W(dst, src, off) insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define MOV_REG(dst, src) insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV_IMM(dst, imm) insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define AND_IMM(dst, imm) insn(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm)
#define RSH_IMM(dst, imm) insn(BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, imm)
#define JNE_IMM(dst, imm, off) insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define JEQ_IMM(dst, imm, off) insn(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, imm)
#define EXIT() insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

enum { R0 = 0, R1, R2, R3, R4, R5, R6, R7 };

int devices_bpf_compile(const struct dev_rule *rules, size_t n, void *outp, size_t max)
{
  struct bpf_insn *out = outp;
  size_t k = 0;
#define EMIT(x) do { if (k >= max) return -1; out[k++] = (x); } while (0)
  /* Rules before the last "a" rule with wildcards no longer matter. */
  size_t first = 0;
  int def = 1; /* a fresh v1 cgroup allows everything */
  for (size_t i = 0; i < n; i++)
    if (rules[i].type == 'a' && rules[i].major < 0 && rules[i].minor < 0) {
      first = i + 1;
      def = rules[i].allow;
    }
  /* r3 = device type, r4 = requested access, r5 = major, r6 = minor */
  EMIT(LDX_W(R2, R1, 0));
  EMIT(MOV_REG(R3, R2));
  EMIT(AND_IMM(R3, 0xFFFF));
  EMIT(MOV_REG(R4, R2));
  EMIT(RSH_IMM(R4, 16));
  EMIT(LDX_W(R5, R1, 4));
  EMIT(LDX_W(R6, R1, 8));
  for (size_t i = n; i-- > first;) {
    const struct dev_rule *r = &rules[i];
    size_t jumps[4];
    size_t nj = 0;
    if (r->type != 'a') {
      jumps[nj++] = k;
      EMIT(JNE_IMM(R3, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0));
    }
    if (r->major >= 0) {
      jumps[nj++] = k;
      EMIT(JNE_IMM(R5, (int32_t) r->major, 0));
    }
    if (r->minor >= 0) {
      jumps[nj++] = k;
      EMIT(JNE_IMM(R6, (int32_t) r->minor, 0));
    }
    EMIT(MOV_REG(R7, R4));
    if (r->allow) {
      EMIT(AND_IMM(R7, (int32_t) (~r->access & 7u))); /* asks for more than granted? */
      jumps[nj++] = k;
      EMIT(JNE_IMM(R7, 0, 0));
    } else {
      EMIT(AND_IMM(R7, (int32_t) r->access)); /* nothing in common with the denial? */
      jumps[nj++] = k;
      EMIT(JEQ_IMM(R7, 0, 0));
    }
    EMIT(MOV_IMM(R0, r->allow ? 1 : 0));
    EMIT(EXIT());
    for (size_t j = 0; j < nj; j++) /* skip to the next rule */
      out[jumps[j]].off = (int16_t) (k - jumps[j] - 1);
  }
  EMIT(MOV_IMM(R0, def));
  EMIT(EXIT());
#undef EMIT
  return (int) k;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
  return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

/* Detach every device program attached to the cgroup except `keep`. */
static void detach_others(int cg, int keep_id)
{
  uint32_t ids[64];
  union bpf_attr q;
  memset(&q, 0, sizeof q);
  q.query.target_fd = (uint32_t) cg;
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = (uint64_t) (uintptr_t) ids;
  q.query.prog_cnt = 64;
  if (sys_bpf(BPF_PROG_QUERY, &q) < 0)
    return;
  for (uint32_t i = 0; i < q.query.prog_cnt; i++) {
    if ((int) ids[i] == keep_id)
      continue;
    union bpf_attr g;
    memset(&g, 0, sizeof g);
    g.prog_id = ids[i];
    int fd = (int) sys_bpf(BPF_PROG_GET_FD_BY_ID, &g);
    if (fd < 0)
      continue;
    union bpf_attr d;
    memset(&d, 0, sizeof d);
    d.target_fd = (uint32_t) cg;
    d.attach_bpf_fd = (uint32_t) fd;
    d.attach_type = BPF_CGROUP_DEVICE;
    sys_bpf(BPF_PROG_DETACH, &d);
    close(fd);
  }
}

static int prog_id(int prog_fd)
{
  struct bpf_prog_info info;
  memset(&info, 0, sizeof info);
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.info.bpf_fd = (uint32_t) prog_fd;
  a.info.info_len = sizeof info;
  a.info.info = (uint64_t) (uintptr_t) &info;
  if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0)
    return -1;
  return (int) info.id;
}

int devices_bpf_apply(const char *cgroup_dir, const struct dev_rule *rules, size_t n, edgecr_error_t *err)
{
  size_t max = 16 + n * 8;
  cleanup_free struct bpf_insn *prog = xmalloc0(max * sizeof *prog);
  int cnt = devices_bpf_compile(rules, n, prog, max);
  if (cnt < 0)
    return edgecr_error_make(err, E2BIG, "linux.resources.devices: too many rules");
  char log[4096] = "";
  union bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = (uint64_t) (uintptr_t) prog;
  load.insn_cnt = (uint32_t) cnt;
  load.license = (uint64_t) (uintptr_t) "Apache-2.0";
  cleanup_close int pfd = (int) sys_bpf(BPF_PROG_LOAD, &load);
  if (pfd < 0) {
    /* Again with the verifier's log, to say why (a successful load with a
     * log would fail with ENOSPC once the log outgrows the buffer). */
    int e = errno;
    load.log_buf = (uint64_t) (uintptr_t) log;
    load.log_size = sizeof log;
    load.log_level = 1;
    int again = (int) sys_bpf(BPF_PROG_LOAD, &load);
    if (again >= 0)
      close(again);
    log[sizeof log - 1] = '\0';
    return edgecr_error_make(err, e, "linux.resources.devices: load the cgroup v2 device program%s%s",
                             log[0] ? ": " : "", log);
  }
  cleanup_close int cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0)
    return edgecr_error_make(err, errno, "open cgroup `%s`", cgroup_dir);
  union bpf_attr att;
  memset(&att, 0, sizeof att);
  att.target_fd = (uint32_t) cg;
  att.attach_bpf_fd = (uint32_t) pfd;
  att.attach_type = BPF_CGROUP_DEVICE;
  att.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf(BPF_PROG_ATTACH, &att) < 0)
    return edgecr_error_make(err, errno, "linux.resources.devices: attach the device program to `%s`", cgroup_dir);
  /* An update replaces what was there: the kernel ANDs every attached
   * program's verdict, so an old, stricter program must go. */
  detach_others(cg, prog_id(pfd));
  return 0;
}
