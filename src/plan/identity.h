/* identity.h - what makes a plan container "the same" across plans.
 *
 * A container is restarted by a switch exactly when its identity differs:
 * the settings that change what runs (backend, bundle contents and
 * metadata, image, scheduling policy, priority, core, the cgroup budget,
 * cpusets, limits, capabilities, devices).  Not part of it: the start
 * order and the dependencies (removing one container shifts everyone's
 * start order), the analysis results (response times move when a
 * neighbour changes), the declared requirements (they reach the container
 * only through the settings above), where the entry came from in the
 * configuration file, and the stored checksum itself. */
#ifndef EDGECR_PLAN_IDENTITY_H
#define EDGECR_PLAN_IDENTITY_H

#include <jansson.h>
#include <stdbool.h>

/* A new object: the container entry without the fields above. */
json_t *plan_container_identity(const json_t *container);

bool plan_same_identity(const json_t *a, const json_t *b);

/* Why two entries differ, as a new array of strings such as
 * "realtime.sched.priority: 80 -> 70", "bundle contents", "capabilities:
 * [\"NET_RAW\"] -> []" (empty when they are the same). */
json_t *plan_identity_changes(const json_t *from, const json_t *to);

#endif
