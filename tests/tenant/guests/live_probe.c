/* live_probe.c - a test tenant for live grants and revocations of one
 * service (tests/integration/test_tenant_live_services.py): every PERIOD
 * milliseconds it calls the service under test and prints one line
 * "SEQ RC [VALUE]", SEQ counting the calls from 0, RC the call's result
 * (0 ok, EDGECR_EDENIED...), VALUE what the call produced.  It opens the
 * resource again whenever it has no handle (so a grant made later is
 * used from the next call) and keeps a handle it has (so a revocation is
 * seen on an open handle).  It stops after MAX calls or when the file
 * /stop exists in its root (the test's sentinel).  Its pauses are WASI
 * sleeps, which need no permission.
 *
 *   live_probe PERIOD MAX kv NS KEY        put KEY = SEQ (RC is the put's), then get it: VALUE
 *                                          what get read ("get:RC" if it failed)
 *   live_probe PERIOD MAX sensor ID        read: VALUE the reading (%.6f)
 *   live_probe PERIOD MAX gpio LINE        set the output line to SEQ & 1: VALUE the level set
 *   live_probe PERIOD MAX infer MODEL IN OUTLEN
 *                                          infer on the files MODEL, IN: VALUE the output in hex
 *   live_probe PERIOD MAX channel NAME     send message number N (the count of sends that
 *                                          were ok, chanctr's format): VALUE N */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgecr/guest.h"

static int32_t handle = -1, last_open;

static int32_t opened(int32_t h)
{
  last_open = h;
  if (h >= 0)
    handle = h;
  return h;
}

static uint8_t *slurp(const char *path, uint32_t *len)
{
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    printf("cannot open %s\n", path);
    exit(2);
  }
  static uint8_t buf[2][1 << 16];
  static int n;
  uint8_t *b = buf[n++ & 1];
  *len = (uint32_t) fread(b, 1, sizeof buf[0], f);
  fclose(f);
  return b;
}

static int32_t probe_kv(char **a, long seq, char *val, size_t cap)
{
  if (handle < 0 && opened(edgecr_kv_open(a[0], (uint32_t) strlen(a[0]))) < 0)
    return last_open;
  char v[24];
  int n = snprintf(v, sizeof v, "%ld", seq);
  int32_t rc = edgecr_kv_put(handle, a[1], (uint32_t) strlen(a[1]), v, (uint32_t) n);
  if (rc != EDGECR_OK)
    return rc;
  char got[64];
  int32_t len = edgecr_kv_get(handle, a[1], (uint32_t) strlen(a[1]), got, sizeof got);
  if (len < 0) /* a revocation between the put and the get: the put is the call's outcome */
    snprintf(val, cap, "get:%d", (int) len);
  else
    snprintf(val, cap, "%.*s", (int) len, got);
  return 0;
}

static int32_t probe_sensor(char **a, char *val, size_t cap)
{
  if (handle < 0 && opened(edgecr_sensor_open(a[0], (uint32_t) strlen(a[0]))) < 0)
    return last_open;
  double v = 0;
  int32_t rc = edgecr_sensor_read(handle, &v);
  if (rc == 0)
    snprintf(val, cap, "%.6f", v);
  return rc;
}

static int32_t probe_gpio(char **a, long seq, char *val, size_t cap)
{
  if (handle < 0 && opened(edgecr_gpio_open(a[0], (uint32_t) strlen(a[0]), EDGECR_GPIO_OUT)) < 0)
    return last_open;
  int32_t rc = edgecr_gpio_set(handle, (int32_t) (seq & 1));
  if (rc == 0)
    snprintf(val, cap, "%ld", seq & 1);
  return rc;
}

static int32_t probe_infer(char **a, char *val, size_t cap)
{
  static uint8_t *model, *in;
  static uint32_t mlen, ilen;
  if (model == NULL) {
    model = slurp(a[0], &mlen);
    in = slurp(a[1], &ilen);
  }
  uint8_t out[64];
  uint32_t olen = (uint32_t) atoi(a[2]);
  if (olen > sizeof out || 2 * olen + 1 > cap)
    return EDGECR_EINVAL;
  int32_t rc = edgecr_infer(model, mlen, in, ilen, out, olen);
  if (rc == 0)
    for (uint32_t i = 0; i < olen; i++)
      snprintf(val + 2 * i, 3, "%02x", out[i]);
  return rc;
}

static int32_t probe_channel(char **a, char *val, size_t cap)
{
  static uint64_t sent;
  if (handle < 0 && opened(edgecr_channel_open(a[0], (uint32_t) strlen(a[0]), EDGECR_CHAN_SEND)) < 0)
    return last_open;
  unsigned char m[64];
  memcpy(m, &sent, 8);
  for (uint32_t i = 8; i < sizeof m; i++)
    m[i] = (unsigned char) (sent * 31 + i);
  int32_t rc = edgecr_channel_send(handle, m, sizeof m);
  if (rc == 0)
    snprintf(val, cap, "%llu", (unsigned long long) sent++);
  return rc;
}

static int stopped(void)
{
  FILE *f = fopen("/stop", "r");
  if (f != NULL)
    fclose(f);
  return f != NULL;
}

int main(int argc, char **argv)
{
  if (argc < 5)
    return printf("usage: live_probe PERIOD MAX SERVICE ARGS...\n"), 2;
  long period = atol(argv[1]), max = atol(argv[2]);
  const char *svc = argv[3];
  char **a = argv + 4;
  for (long seq = 0; seq < max && !stopped(); seq++) {
    char val[160] = "";
    int32_t rc = strcmp(svc, "kv") == 0        ? probe_kv(a, seq, val, sizeof val)
                 : strcmp(svc, "sensor") == 0  ? probe_sensor(a, val, sizeof val)
                 : strcmp(svc, "gpio") == 0    ? probe_gpio(a, seq, val, sizeof val)
                 : strcmp(svc, "infer") == 0   ? probe_infer(a, val, sizeof val)
                 : strcmp(svc, "channel") == 0 ? probe_channel(a, val, sizeof val)
                                               : (printf("unknown service %s\n", svc), exit(2), 0);
    printf("%ld %d %s\n", seq, (int) rc, val);
    fflush(stdout);
    struct timespec ts = {period / 1000, (period % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  return 0;
}
