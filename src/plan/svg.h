/* svg.h - the schedule as a picture: an SVG timeline of the simulated
 * schedule, one lane per core, jobs as boxes coloured per container,
 * releases and deadlines marked, misses in red, a legend. */
#ifndef EDGECR_PLAN_SVG_H
#define EDGECR_PLAN_SVG_H

#include <stdint.h>
#include <stdio.h>

#include "analysis.h"
#include "model.h"

/* Default window: the hyperperiod, capped so the picture stays readable. */
int64_t plan_svg_default_window(const struct plan_analysis *a);

/* Simulate [0, window) and write the SVG to `out`. */
void plan_svg_write(FILE *out, const struct plan_config *c, const struct plan_analysis *a, int64_t window);

#endif
