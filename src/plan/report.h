/* report.h - the analysis as people read it (tables, failures in words)
 * and as programs read it (JSON, schema in docs/plan.md). */
#ifndef EDGECR_PLAN_REPORT_H
#define EDGECR_PLAN_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "analysis.h"
#include "model.h"

void plan_report_text(FILE *out, const struct plan_config *c, const struct plan_analysis *a);
json_t *plan_report_json(const struct plan_config *c, const struct plan_analysis *a);

/* The task of container `id`, or NULL when it has no rt section. */
const struct plan_task *plan_analysis_task(const struct plan_analysis *a, size_t id);

#endif
