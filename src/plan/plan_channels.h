/* plan_channels.h - a plan's `channels:` on the node: each container's
 * ends in its compiled entry, and as the annotations of the config it runs
 * with (the runtime sets the channels up from those at create:
 * src/channel/setup.c, docs/channels.md). */
#ifndef EDGECR_PLAN_CHANNELS_H
#define EDGECR_PLAN_CHANNELS_H

#include <jansson.h>

#include "model.h"

/* The compiled entry's `channels` of container `name`: an object
 * {CHANNEL: {declaration with the writers' and readers' names, "writer":
 * true and/or "reader": INDEX}}, or NULL when it uses none.  A change of a
 * channel's declaration or of its ends changes the entry of every
 * container at its ends, so a switch restarts them all and keeps the
 * channel (and its contents) only when nothing about it changed. */
json_t *plan_compile_channels(const struct plan_config *c, const char *name);

/* Adds an `org.edgecr.channel.<CHANNEL>` annotation per channel of the
 * compiled entry to the OCI config cfg. */
void plan_channel_annotations(json_t *cfg, const json_t *entry);

#endif
