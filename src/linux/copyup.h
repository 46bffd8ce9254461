/* copyup.h - `tmpcopyup`: copy what a directory held into the tmpfs just
 * mounted over it (owners, modes, symlinks, special files). */
#ifndef EDGECR_COPYUP_H
#define EDGECR_COPYUP_H

#include "error.h"

/* below: a directory fd opened on the mount point before the tmpfs was
 * mounted (it still sees the hidden contents); target: the mount point. */
int copyup_tree(int below, const char *target, edgecr_error_t *err);

#endif
