/* guard.c - guarded linear memories: bounds checks done by the MMU.
 *
 * The hosted 64-bit Linux build of the engine can give an instance a
 * memory whose data is a reservation of EW_GUARD_SPAN bytes of address
 * space (8 GiB + 64 KiB: a wasm32 access adds a 32-bit offset to a 32-bit
 * address and reads up to 8 bytes, so it can never leave the reservation).
 * Only [0, size) is accessible; growing makes more pages accessible in
 * place, so the data never moves.  The interpreter's guarded loop
 * (interp_loop.h, EW_LOOP_GUARDED 1) then loads and stores without
 * comparing addresses with the size, and an access past the end faults.
 *
 * The fault becomes a trap here: every guarded run goes through
 * ew_guard_run(), which pushes a frame with a sigjmp_buf on a per-thread
 * list; the SIGSEGV/SIGBUS handler jumps back to the innermost frame when
 * the faulting address lies in the reservation that frame's instance is
 * using (th->guard_base, kept current by the loop), and otherwise passes
 * the signal to the handler that was installed before (a sanitizer's, for
 * example) or restores the default action so that the fault kills the
 * process as it would have.  The loop's registers are lost with the jump,
 * which is fine for a trap: the call is over, the instance goes back to
 * idle (ew_call's finish), only the fuel count is the one of the start of
 * the run.
 *
 * This is the only part of the engine that uses the OS (mmap, mprotect,
 * sigaction, sigsetjmp) and the only state outside instances (the handler
 * and the per-thread frame list); the freestanding build leaves it out and
 * every memory is checked. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "internal.h"

#ifdef EW_GUARD_PAGES

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

typedef struct guard_frame {
  sigjmp_buf jump;
  ew_instance *th;
  struct guard_frame *prev;
} guard_frame;

static _Thread_local guard_frame *guard_top;
static struct sigaction previous_segv, previous_bus;
static bool installed;     /* the handler was installed once */

static void pass_on(int sig, siginfo_t *si, void *uc)
{
  struct sigaction *prev = sig == SIGBUS ? &previous_bus : &previous_segv;
  if ((prev->sa_flags & SA_SIGINFO) && prev->sa_sigaction) {
    prev->sa_sigaction(sig, si, uc);
    return;
  }
  if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
    prev->sa_handler(sig);
    return;
  }
  /* Default action: put it back and return; the faulting instruction runs
   * again and the process dies of the signal with its usual core dump. */
  sigaction(sig, prev, NULL);
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
  guard_frame *f = guard_top;
  if (f) {
    uintptr_t base = (uintptr_t)f->th->guard_base;
    uintptr_t addr = (uintptr_t)si->si_addr;
    if (base && addr - base < EW_GUARD_SPAN) {
      guard_top = f->prev;
      siglongjmp(f->jump, 1);
    }
  }
  pass_on(sig, si, uc);
}

/* Make on_fault the handler of sig, remembering the one it replaces. */
static bool take_signal(int sig, struct sigaction *previous)
{
  struct sigaction cur;
  if (sigaction(sig, NULL, &cur) != 0)
    return false;
  if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_fault)
    return true;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  /* SA_NODEFER: the jump out of the handler leaves the signal unblocked
   * without saving and restoring the mask on every run.  No SA_ONSTACK:
   * these faults are never stack overflows, and valgrind cannot deliver
   * the signal on the alternate stack of a static binary. */
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  return sigaction(sig, &sa, previous) == 0;
}

/* Idempotent; calling it again after something else replaced the handler
 * puts the engine's back in front (chaining to that one). */
int ew_guard_enable(void)
{
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&lock);
  bool ok = take_signal(SIGSEGV, &previous_segv) && take_signal(SIGBUS, &previous_bus);
  __atomic_store_n(&installed, ok || installed, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&lock);
  return ok;
}

bool ew_guard_ready(void) { return __atomic_load_n(&installed, __ATOMIC_ACQUIRE); }

uint8_t *ew_guard_reserve(void)
{
  void *p = mmap(NULL, EW_GUARD_SPAN, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

int ew_guard_commit(uint8_t *base, uint64_t from, uint64_t to)
{
  /* Sizes are whole wasm pages (64 KiB), a multiple of the host page. */
  if (to <= from)
    return 0;
  return mprotect(base + from, (size_t)(to - from), PROT_READ | PROT_WRITE);
}

void ew_guard_release(uint8_t *base)
{
  if (base)
    munmap(base, EW_GUARD_SPAN);
}

ew_status ew_guard_run(ew_instance *th, ew_status (*loop)(ew_instance *))
{
  guard_frame frame;
  frame.th = th;
  frame.prev = guard_top;
  if (sigsetjmp(frame.jump, 0)) {
    /* A guarded access faulted (the handler popped the frame). */
    th->trap = EW_TRAP_MEMORY_OOB;
    th->trap_msg = NULL;
    return EW_TRAP;
  }
  guard_top = &frame;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  ew_status st = loop(th);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  guard_top = frame.prev;
  return st;
}

#endif /* EW_GUARD_PAGES */
