/* pause.c - the sandbox ("pause") process of the CRI tests' pod image: it
 * holds the pod's namespaces, reaps what is re-parented to it, and exits 0
 * on SIGTERM/SIGINT.  Built static by tests/cri at test time (no registry
 * here to pull the usual pause image from). */
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig)
{
  (void) sig;
  _exit(0);
}

static void on_child(int sig)
{
  (void) sig;
  while (waitpid(-1, NULL, WNOHANG) > 0)
    ;
}

int main(void)
{
  signal(SIGTERM, on_stop);
  signal(SIGINT, on_stop);
  signal(SIGCHLD, on_child);
  for (;;)
    pause();
}
