/* meter.c - the demo's first tenant (scripts/demo.sh, docs/tenants.md
 * "A worked example"): every 200 ms it reads the temperature sensor, keeps
 * the last reading and a count in its kv namespace (which survives
 * restarts), and sends the reading on the channel `readings`.  Its signed
 * metadata grants exactly that: sensor temp0, kv `state` read-write, the
 * channel's send end, log and clock. */
#include <stdio.h>
#include <string.h>

#include "edgecr/guest.h"

static void say(const char *msg)
{
  edgecr_log(EDGECR_LOG_INFO, msg, (uint32_t) strlen(msg));
}

int main(void)
{
  char line[160];
  int32_t sensor = edgecr_sensor_open("temp0", 5);
  int32_t kv = edgecr_kv_open("state", 5);
  int32_t chan = edgecr_channel_open("readings", 8, EDGECR_CHAN_SEND);
  snprintf(line, sizeof line, "handles: sensor %d, kv %d, channel %d", (int) sensor, (int) kv, (int) chan);
  say(line);
  uint32_t count = 0;
  if (kv >= 0 && edgecr_kv_get(kv, "count", 5, &count, sizeof count) != (int32_t) sizeof count)
    count = 0;
  int64_t next = edgecr_clock_now();
  for (int i = 0; i < 10; i++) {
    double celsius = 0;
    int32_t rc = edgecr_sensor_read(sensor, &celsius);
    count++;
    if (kv >= 0) {
      edgecr_kv_put(kv, "last", 4, &celsius, sizeof celsius);
      edgecr_kv_put(kv, "count", 5, &count, sizeof count);
    }
    if (chan >= 0)
      edgecr_channel_send(chan, &celsius, sizeof celsius);
    snprintf(line, sizeof line, "reading %u: %.3f C (sensor rc %d)", (unsigned) count, celsius, (int) rc);
    say(line);
    next += 200000000;
    edgecr_sleep_until(next);
  }
  return 0;
}
