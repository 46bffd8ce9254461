/* log.h - runtime log, in the forms runc's callers expect.
 *
 * containerd's shim runs the runtime with `--log FILE --log-format json` and
 * reads the last error from FILE as {"level":"error","msg":...,"time":...}.
 * Without --log, messages go to stderr as text.  Errors go to stderr as
 * text in every case, and to the --log file too when there is one. */
#ifndef EDGECR_LOG_H
#define EDGECR_LOG_H

#include <stdbool.h>

enum edgecr_log_level { EDGECR_LOGLEVEL_DEBUG, EDGECR_LOGLEVEL_INFO, EDGECR_LOGLEVEL_WARNING, EDGECR_LOGLEVEL_ERROR };

/* path may be NULL (stderr). json selects the JSON line format. */
int edgecr_log_init(const char *path, bool json, bool debug);
void edgecr_log(enum edgecr_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool edgecr_log_debug_enabled(void);

#define log_debug(...) do { if (edgecr_log_debug_enabled()) edgecr_log(EDGECR_LOGLEVEL_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...) edgecr_log(EDGECR_LOGLEVEL_INFO, __VA_ARGS__)
#define log_warning(...) edgecr_log(EDGECR_LOGLEVEL_WARNING, __VA_ARGS__)
#define log_error(...) edgecr_log(EDGECR_LOGLEVEL_ERROR, __VA_ARGS__)

#endif
