/* services.c - a test tenant for the kv, sensor and GPIO services: it runs
 * the operations on its command line and prints each result, so the tests
 * see allowed, denied and failed calls as the guest does.
 *
 *   kv NS                 open a namespace; prints the handle or the code
 *   put H K V | get H K | del H K
 *   fill H SIZE           put keys "f<i>" with SIZE-byte values until one fails
 *   loop H FROM           put "key-<i>" = "value-<i>" forever, printing
 *                         "committed <i>" after each put that returned OK
 *   sensor ID             open and read: prints the handle, the code, the value
 *   read H                read an open sensor again
 *   gpio LINE in|out      open a line; gget H; gset H V
 *   close H
 *   sleep MS              (wasi)
 *   bench H N             N kv_get of key "b" (put first: 16 bytes) and N
 *                         abi_version calls and N denied gpio_open (when gpio
 *                         is not granted): prints ns per call of each */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgecr/guest.h"

static int32_t kv_put_str(int32_t h, const char *k, const char *v)
{
  return edgecr_kv_put(h, k, (uint32_t) strlen(k), v, (uint32_t) strlen(v));
}

static int kv_ops(int argc, char **argv, int i)
{
  const char *op = argv[i];
  int32_t h = i + 1 < argc ? atoi(argv[i + 1]) : -1;
  if (strcmp(op, "put") == 0 && i + 3 < argc) {
    printf("put %d\n", (int) kv_put_str(h, argv[i + 2], argv[i + 3]));
    return 3;
  }
  if (strcmp(op, "get") == 0 && i + 2 < argc) {
    char buf[256];
    int32_t n = edgecr_kv_get(h, argv[i + 2], (uint32_t) strlen(argv[i + 2]), buf, sizeof buf);
    if (n >= 0)
      printf("get %d %.*s\n", (int) n, n < (int32_t) sizeof buf ? (int) n : (int) sizeof buf, buf);
    else
      printf("get %d\n", (int) n);
    return 2;
  }
  if (strcmp(op, "del") == 0 && i + 2 < argc) {
    printf("del %d\n", (int) edgecr_kv_delete(h, argv[i + 2], (uint32_t) strlen(argv[i + 2])));
    return 2;
  }
  if (strcmp(op, "fill") == 0 && i + 2 < argc) {
    static char val[65536];
    int size = atoi(argv[i + 2]), n = 0;
    memset(val, 'v', sizeof val);
    int32_t rc;
    for (;; n++) {
      char k[16];
      snprintf(k, sizeof k, "f%d", n);
      if ((rc = edgecr_kv_put(h, k, (uint32_t) strlen(k), val, (uint32_t) size)) != EDGECR_OK)
        break;
    }
    printf("fill %d then %d\n", n, (int) rc);
    return 2;
  }
  if (strcmp(op, "bench") == 0 && i + 2 < argc) {
    long n = atol(argv[i + 2]);
    char buf[16];
    kv_put_str(h, "b", "0123456789abcdef");
    struct timespec t0, t1, t2, t3, t4;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long k = 0; k < n; k++)
      edgecr_kv_get(h, "b", 1, buf, sizeof buf);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (long k = 0; k < n; k++)
      edgecr_abi_version();
    clock_gettime(CLOCK_MONOTONIC, &t2);
    for (long k = 0; k < n; k++)
      edgecr_kv_get(h, "b", 1, buf, 0);   /* the length only: the lookup without the copy */
    clock_gettime(CLOCK_MONOTONIC, &t3);
    for (long k = 0; k < n; k++)
      edgecr_gpio_open("x", 1, EDGECR_GPIO_IN);   /* denied when gpio is not granted */
    clock_gettime(CLOCK_MONOTONIC, &t4);
    double a = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n;
    double b = ((t2.tv_sec - t1.tv_sec) * 1e9 + (t2.tv_nsec - t1.tv_nsec)) / n;
    double c = ((t3.tv_sec - t2.tv_sec) * 1e9 + (t3.tv_nsec - t2.tv_nsec)) / n;
    double d = ((t4.tv_sec - t3.tv_sec) * 1e9 + (t4.tv_nsec - t3.tv_nsec)) / n;
    printf("bench kv_get %.1f ns, kv_get length only %.1f ns, abi_version %.1f ns, denied gpio_open %.1f ns\n", a, c,
           b, d);
    return 2;
  }
  if (strcmp(op, "loop") == 0 && i + 2 < argc) {
    for (long n = atol(argv[i + 2]);; n++) {
      char k[32], v[64];
      snprintf(k, sizeof k, "key-%08ld", n);
      snprintf(v, sizeof v, "value-%ld", n);
      int32_t rc = kv_put_str(h, k, v);
      if (rc != EDGECR_OK) {
        printf("loop %ld failed %d\n", n, (int) rc);
        return 2;
      }
      printf("committed %ld\n", n);
      fflush(stdout);
    }
  }
  return -1;
}

static int dev_ops(int argc, char **argv, int i)
{
  const char *op = argv[i];
  if (strcmp(op, "sensor") == 0 && i + 1 < argc) {
    double v = 0;
    int32_t h = edgecr_sensor_open(argv[i + 1], (uint32_t) strlen(argv[i + 1]));
    int32_t rc = h >= 0 ? edgecr_sensor_read(h, &v) : h;
    printf("sensor %d %d %.6f\n", (int) h, (int) rc, v);
    return 1;
  }
  if (strcmp(op, "read") == 0 && i + 1 < argc) {
    double v = 0;
    int32_t rc = edgecr_sensor_read(atoi(argv[i + 1]), &v);
    printf("read %d %.6f\n", (int) rc, v);
    return 1;
  }
  if (strcmp(op, "gpio") == 0 && i + 2 < argc) {
    int32_t dir = strcmp(argv[i + 2], "out") == 0 ? EDGECR_GPIO_OUT : strcmp(argv[i + 2], "in") == 0 ? EDGECR_GPIO_IN : 7;
    printf("gpio %d\n", (int) edgecr_gpio_open(argv[i + 1], (uint32_t) strlen(argv[i + 1]), dir));
    return 2;
  }
  if (strcmp(op, "gget") == 0 && i + 1 < argc) {
    printf("gget %d\n", (int) edgecr_gpio_get(atoi(argv[i + 1])));
    return 1;
  }
  if (strcmp(op, "gset") == 0 && i + 2 < argc) {
    printf("gset %d\n", (int) edgecr_gpio_set(atoi(argv[i + 1]), atoi(argv[i + 2])));
    return 2;
  }
  return -1;
}

int main(int argc, char **argv)
{
  for (int i = 1; i < argc; i++) {
    const char *op = argv[i];
    int used;
    if (strcmp(op, "kv") == 0 && i + 1 < argc) {
      printf("kv %d\n", (int) edgecr_kv_open(argv[i + 1], (uint32_t) strlen(argv[i + 1])));
      i++;
    } else if (strcmp(op, "close") == 0 && i + 1 < argc) {
      printf("close %d\n", (int) edgecr_close(atoi(argv[++i])));
    } else if (strcmp(op, "sleep") == 0 && i + 1 < argc) {
      long ms = atol(argv[++i]);
      struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
      nanosleep(&ts, NULL);
    } else if ((used = kv_ops(argc, argv, i)) >= 0 || (used = dev_ops(argc, argv, i)) >= 0) {
      i += used;
    } else {
      printf("bad op %s\n", op);
      return 2;
    }
  }
  return 0;
}
