/* display.c - the demo's second tenant: a lower permission level.  It
 * receives the meter's readings on the channel `readings` and logs them;
 * it also tries, every time, to read the sensor itself and to open the
 * meter's kv namespace.  Its first metadata grants neither: both calls are
 * denied (EDGECR_EDENIED, counted, reported).  The demo then grants it the
 * sensor with `edgecr update --metadata` while it runs: from its next call
 * the sensor works, without a restart; the kv namespace stays out of
 * reach. */
#include <stdio.h>
#include <string.h>

#include "edgecr/guest.h"

static void say(const char *msg)
{
  edgecr_log(EDGECR_LOG_INFO, msg, (uint32_t) strlen(msg));
}

int main(void)
{
  char line[200];
  int32_t chan = edgecr_channel_open("readings", 8, EDGECR_CHAN_RECEIVE);
  int32_t sensor = -1;
  for (int i = 0; i < 14; i++) {
    double celsius = 0, own = 0;
    int32_t got = edgecr_channel_recv(chan, &celsius, sizeof celsius, 300000000);
    if (sensor < 0)
      sensor = edgecr_sensor_open("temp0", 5);
    int32_t own_rc = sensor >= 0 ? edgecr_sensor_read(sensor, &own) : sensor;
    int32_t kv = edgecr_kv_open("state", 5);
    if (got == (int32_t) sizeof celsius)
      snprintf(line, sizeof line, "received %.3f C; own sensor: %s %.3f; meter's kv: %s", celsius,
               own_rc == 0 ? "ok" : "denied", own, kv == EDGECR_EDENIED ? "denied" : "open");
    else
      snprintf(line, sizeof line, "nothing received (%d); own sensor: %s; meter's kv: %s", (int) got,
               own_rc == 0 ? "ok" : "denied", kv == EDGECR_EDENIED ? "denied" : "open");
    say(line);
    if (kv >= 0)
      edgecr_close(kv);
  }
  return 0;
}
