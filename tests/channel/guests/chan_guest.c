/* chan_guest.c - a WebAssembly tenant on shared-memory channels, through
 * the `channel` service of the tenant ABI (include/edgecr/guest.h), for
 * tests/channel/test_channel_wasm.py and tests/plan/test_plan_channels_wasm.py.
 * Messages are those of tests/channel/chanctr.c: u64 seq, then bytes
 * seq * 31 + i.
 *
 *   open NAME send|receive|both   prints the result of channel_open
 *   send NAME FIRST COUNT SIZE    sends FIRST..FIRST+COUNT-1 (retrying while full)
 *   recv NAME COUNT TIMEOUT_MS    receives COUNT messages, checks each
 *   echo IN OUT                   forever: a message from IN, the same on OUT
 *   badsend NAME SIZE             a send of SIZE bytes (not the channel's size)
 *   smallrecv NAME CAP            a receive into CAP bytes */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgecr/guest.h"

static unsigned char msg[65536];

static int32_t open_ch(const char *name, int32_t access)
{
  return edgecr_channel_open(name, (uint32_t) strlen(name), access);
}

static void fill(uint64_t seq, uint32_t size)
{
  memcpy(msg, &seq, 8);
  for (uint32_t i = 8; i < size; i++)
    msg[i] = (unsigned char) (seq * 31 + i);
}

static int check(uint32_t size, uint64_t *seq)
{
  memcpy(seq, msg, 8);
  for (uint32_t i = 8; i < size; i++)
    if (msg[i] != (unsigned char) (*seq * 31 + i))
      return 0;
  return 1;
}

static int do_send(const char *name, uint64_t first, uint64_t count, uint32_t size)
{
  int32_t h = open_ch(name, EDGECR_CHAN_SEND), rc = 0;
  if (h < 0) {
    printf("send open %d\n", (int) h);
    return 1;
  }
  for (uint64_t s = first; s < first + count; s++) {
    fill(s, size);
    while ((rc = edgecr_channel_send(h, msg, size)) == EDGECR_EAGAIN)
      ;
    if (rc < 0)
      break;
  }
  printf("send rc=%d\n", (int) rc);
  return rc < 0;
}

static int do_recv(const char *name, uint64_t count, int64_t timeout_ms)
{
  int32_t h = open_ch(name, EDGECR_CHAN_RECEIVE), n = 0;
  if (h < 0) {
    printf("recv open %d\n", (int) h);
    return 1;
  }
  uint64_t got = 0, first = 0, last = 0, seq;
  while (got < count) {
    n = edgecr_channel_recv(h, msg, sizeof msg, timeout_ms * 1000000);
    if (n < 0)
      break;
    if (!check((uint32_t) n, &seq) || (got && seq != last + 1)) {
      printf("recv bad message seq=%llu after %llu\n", (unsigned long long) seq, (unsigned long long) last);
      return 1;
    }
    if (got++ == 0)
      first = seq;
    last = seq;
  }
  printf("recv received=%llu first=%llu last=%llu rc=%d\n", (unsigned long long) got, (unsigned long long) first,
         (unsigned long long) last, n < 0 ? (int) n : 0);
  return got != count;
}

static int do_echo(const char *in, const char *out)
{
  int32_t hi = open_ch(in, EDGECR_CHAN_RECEIVE), ho = open_ch(out, EDGECR_CHAN_SEND);
  printf("echo open %d %d\n", (int) hi, (int) ho);
  fflush(stdout);
  if (hi < 0 || ho < 0)
    return 1;
  for (;;) {
    int32_t n = edgecr_channel_recv(hi, msg, sizeof msg, EDGECR_WAIT_FOREVER);
    if (n == EDGECR_EAGAIN)
      continue;
    if (n < 0) {
      printf("echo recv %d\n", (int) n);
      return 1;
    }
    int32_t rc;
    while ((rc = edgecr_channel_send(ho, msg, (uint32_t) n)) == EDGECR_EAGAIN)
      ;
    if (rc < 0) {
      printf("echo send %d\n", (int) rc);
      return 1;
    }
  }
}

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 4 && strcmp(argv[1], "open") == 0) {
    int32_t a = strcmp(argv[3], "send") == 0 ? EDGECR_CHAN_SEND : strcmp(argv[3], "receive") == 0 ? EDGECR_CHAN_RECEIVE
                                                                                                 : EDGECR_CHAN_SEND | EDGECR_CHAN_RECEIVE;
    printf("open %d\n", (int) open_ch(argv[2], a));
    return 0;
  }
  if (argc == 6 && strcmp(argv[1], "send") == 0)
    return do_send(argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0), (uint32_t) atoi(argv[5]));
  if (argc == 5 && strcmp(argv[1], "recv") == 0)
    return do_recv(argv[2], strtoull(argv[3], NULL, 0), atoll(argv[4]));
  if (argc == 4 && strcmp(argv[1], "echo") == 0)
    return do_echo(argv[2], argv[3]);
  if (argc == 4 && strcmp(argv[1], "badsend") == 0) {
    int32_t h = open_ch(argv[2], EDGECR_CHAN_SEND);
    printf("badsend %d\n", (int) edgecr_channel_send(h, msg, (uint32_t) atoi(argv[3])));
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "smallrecv") == 0) {
    int32_t h = open_ch(argv[2], EDGECR_CHAN_RECEIVE);
    printf("smallrecv %d\n", (int) edgecr_channel_recv(h, msg, (uint32_t) atoi(argv[3]), 0));
    return 0;
  }
  printf("usage\n");
  return 2;
}
