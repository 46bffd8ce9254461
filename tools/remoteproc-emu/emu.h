/* emu.h - the emulated remote processor: shared types.
 *
 * remoteproc-emu presents the kernel's remoteproc class
 * (<root>/sys/class/remoteproc/remoteprocN/{name,firmware,state,recovery,
 * coredump}) as a FUSE filesystem; `start` boots the firmware under
 * qemu-system-arm and relays the core's UART to a pty that stands in for the
 * RPMsg tty (<root>/dev/ttyRPMSGN).  See docs/remoteproc.md.
 *
 * Threads: the FUSE loop runs on the main thread and serialises every file
 * operation; one supervisor thread per booted processor relays the UART and
 * notices QEMU's exit.  `emu.lock` guards every field of every processor. */
#ifndef REMOTEPROC_EMU_H
#define REMOTEPROC_EMU_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* The kernel's RPROC_* states that the emulation can be in. */
enum rproc_state { RPROC_OFFLINE, RPROC_RUNNING, RPROC_CRASHED };

enum rproc_coredump { COREDUMP_DISABLED, COREDUMP_ENABLED, COREDUMP_INLINE };

struct emu;

struct emu_proc {
  struct emu *emu;
  unsigned index;        /* N of remoteprocN and ttyRPMSGN */
  char *name;            /* contents of `name` */
  char *machine;         /* QEMU -M */
  char *cpu;             /* QEMU -cpu, NULL for the machine's default */
  char *firmware;        /* contents of `firmware` (a name, not a path) */
  enum rproc_state state;
  bool recovery_disabled;
  enum rproc_coredump coredump;

  /* The RPMsg tty stand-in: a pty pair that lives as long as the emulator,
   * so <root>/dev/ttyRPMSGN stays valid across boots. */
  int pty_master, pty_slave;
  char *tty_link;

  /* The running QEMU, when state is RUNNING (or being torn down). */
  pid_t qemu_pid;
  int qemu_stdin, qemu_stdout; /* our ends of its serial pipes */
  char *booted_path;           /* firmware file QEMU was given */
  bool stopping;               /* `stop` in progress: an exit is no crash */
  bool supervisor_alive;       /* thread started and not yet joined */
  bool supervisor_done;        /* thread finished; join will not block */
  pthread_t supervisor;
  pthread_cond_t supervisor_exited;
  unsigned boots, crashes;
  bool initialised; /* proc_init ran (condition variable ready) */
};

struct emu {
  char *root;          /* the emulated system's root directory */
  char *mountpoint;    /* <root>/sys: where the FUSE filesystem lives */
  char *run_dir;       /* <root>/run/remoteproc-emu: pid, logs, QEMU pids */
  char *model;         /* devicetree model, NULL when none */
  char *fw_path_param; /* like firmware_class.path, inside the root */
  char *kernel_release;
  char *qemu;          /* qemu-system-arm binary */
  char *icount;        /* -icount shift value, NULL for real time */
  unsigned recovery_delay_ms;
  struct emu_proc *procs;
  size_t nprocs;
  pthread_mutex_t lock;
};

/* proc.c: the remoteproc state machine.  Command functions return 0 or a
 * negative errno, exactly what the kernel's sysfs store() returns, and are
 * called by the FUSE thread without emu.lock held. */
/* proc_new: fields to safe defaults (no fds, offline); proc_init: the pty
 * and tty link, in the daemon only.  proc_release undoes both. */
void proc_new(struct emu_proc *p, struct emu *e, unsigned index);
int proc_init(struct emu_proc *p, edgecr_error_t *err);
void proc_release(struct emu_proc *p);
int proc_cmd_state(struct emu_proc *p, const char *cmd);
int proc_set_firmware(struct emu_proc *p, const char *buf, size_t len);
int proc_set_recovery(struct emu_proc *p, const char *cmd);
int proc_set_coredump(struct emu_proc *p, const char *cmd);
/* Stops the processor whatever its state (emulator shutdown). */
void proc_shutdown(struct emu_proc *p);
const char *proc_state_name(enum rproc_state s);
const char *proc_coredump_name(enum rproc_coredump c);

/* qemu.c: QEMU processes and the UART relay. */
/* Boots p->booted_path under QEMU; emu.lock held.  0 or negative errno. */
int qemu_spawn(struct emu_proc *p);
/* Supervisor thread body (arg: struct emu_proc *). */
void *qemu_supervise(void *arg);
/* proc.c, for the supervisor: find, check and boot the firmware again
 * (recovery); emu.lock held.  0 or negative errno. */
int proc_load_and_spawn(struct emu_proc *p);
/* Sends sig to the processor's QEMU if one runs; emu.lock held. */
void qemu_signal(struct emu_proc *p, int sig);

/* events.c: the event log (<run_dir>/events.log), for people and tests. */
void emu_event(struct emu *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* fs.c: the FUSE filesystem; runs until SIGTERM/SIGINT or unmount. */
struct fuse;
struct fuse *fs_mount(struct emu *e, edgecr_error_t *err);
int fs_loop(struct fuse *f);
void fs_unmount(struct fuse *f);

/* sysfs_streq: equal, ignoring one trailing newline on the written side. */
bool attr_streq(const char *buf, const char *want);

#endif
