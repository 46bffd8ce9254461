/* Runs a command N times and prints, per run, its exit status, wall time and
 * the rusage of its whole reaped process tree (wait4 reports RUSAGE_BOTH).
 *
 * Why a C helper: ru_maxrss includes the memory of the process *before* it
 * calls execve, i.e. of the forking parent.  Forked from Python (13 MB) every
 * runtime would show 13 MB; forked from this static helper the floor is a
 * few hundred kB.
 *
 * usage: spawn TIMEOUT_S N ARGV...   ("{i}" in an argument = run index)
 * output: one line per run: "<status> <wall_us> <user+sys_us> <maxrss_kB>",
 *         status "timeout" when the run was killed after TIMEOUT_S. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

static pid_t child;

static void on_alarm(int sig)
{
    (void)sig;
    if (child > 0)
        kill(-child, SIGKILL); /* the child leads its own session */
}

static char **argv_for_run(int argc, char **argv, int run, char *buf, size_t len)
{
    static char *out[256];
    int n = argc < 255 ? argc : 255;
    for (int i = 0; i < n; i++) {
        char *at = strstr(argv[i], "{i}");
        if (at) {
            snprintf(buf, len, "%.*s%d%s", (int)(at - argv[i]), argv[i], run, at + 3);
            out[i] = buf;
        } else {
            out[i] = argv[i];
        }
    }
    out[n] = NULL;
    return out;
}

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: spawn TIMEOUT_S N ARGV...\n");
        return 2;
    }
    int timeout = atoi(argv[1]), runs = atoi(argv[2]);
    struct sigaction sa = { .sa_handler = on_alarm };
    sigaction(SIGALRM, &sa, NULL);
    for (int r = 0; r < runs; r++) {
        char idbuf[512];
        char **cmd = argv_for_run(argc - 3, argv + 3, r, idbuf, sizeof idbuf);
        long long t0 = now_us();
        child = fork();
        if (child < 0) {
            perror("fork");
            return 1;
        }
        if (child == 0) {
            int null = open("/dev/null", O_RDWR);
            dup2(null, 0); dup2(null, 1); dup2(null, 2);
            setsid();
            execv(cmd[0], cmd);
            _exit(127);
        }
        alarm(timeout);
        int status;
        struct rusage ru;
        while (wait4(child, &status, 0, &ru) < 0)
            ;
        alarm(0);
        long long wall = now_us() - t0;
        long long cpu = ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec +
                        ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec;
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && wall >= timeout * 1000000LL) {
            printf("timeout %lld 0 0\n", wall);
            fflush(stdout);
            return 3;
        }
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        printf("%d %lld %lld %ld\n", code, wall, cpu, ru.ru_maxrss);
        fflush(stdout);
    }
    return 0;
}
