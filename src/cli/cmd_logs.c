/* cmd_logs.c - `edgecr logs [-f] ID`: print (or follow) the log a
 * container's backend keeps (lc_logs).  Which backends keep one, and
 * where, is theirs to know: remote-core containers keep their firmware's
 * output; Linux and WebAssembly containers keep nothing (their output is
 * the stdio they were given, which the caller owns). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "lifecycle.h"

int cmd_logs(struct edgecr_global *g, int argc, char **argv)
{
  static const struct option opts[] = {{"follow", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  bool want_follow = false;
  int c;
  while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
    if (c == 'f')
      want_follow = true;
    else if (c == 'h') {
      puts("usage: edgecr logs [-f|--follow] ID\n\n"
           "Prints the log a container's backend keeps (remote-core firmware output); with\n"
           "-f, keeps printing until the container stops.  Linux and WebAssembly containers\n"
           "have no log here: their output is the stdio they were started with.");
      return 0;
    } else
      return cli_usage("logs", "unknown option");
  }
  if (optind != argc - 1)
    return cli_usage("logs", "expects exactly one container id");
  struct lc_context ctx = {.state_root = g->root, .systemd_cgroup = g->systemd_cgroup};
  edgecr_error_t err = NULL;
  if (lc_logs(&ctx, argv[optind], STDOUT_FILENO, want_follow, &err) < 0)
    return cli_fail(&err);
  return 0;
}
