/* crc32.c - checksum kernels: table-driven CRC-32 and Adler-32 over a
 * pseudo-random buffer, repeated.  argv[1] scales the work (1 = the quick test size). */
#include <stdint.h>
#include <stdio.h>

#define DEFAULT_SCALE 50 /* the benchmark size; tests pass 1 */
#include <stdlib.h>

#define BUF_SIZE (256 * 1024)

static uint32_t crc_table[256];

static void crc32_init(void)
{
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, size_t n)
{
  crc = ~crc;
  while (n--)
    crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

static uint32_t adler32(uint32_t adler, const uint8_t *p, size_t n)
{
  uint32_t a = adler & 0xffff, b = adler >> 16;
  while (n > 0) {
    size_t chunk = n < 5552 ? n : 5552;
    n -= chunk;
    while (chunk--) {
      a += *p++;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return (b << 16) | a;
}

int main(int argc, char **argv)
{
  int scale = argc > 1 ? atoi(argv[1]) : DEFAULT_SCALE;
  static uint8_t buf[BUF_SIZE];
  uint32_t x = 12345;
  for (size_t i = 0; i < BUF_SIZE; i++) {
    x = x * 1103515245u + 12345u;
    buf[i] = (uint8_t) (x >> 16);
  }
  crc32_init();
  uint32_t crc = 0, adler = 1;
  for (int r = 0; r < 12 * scale; r++) {
    buf[r % BUF_SIZE] ^= (uint8_t) r;
    crc = crc32(crc, buf, BUF_SIZE);
    adler = adler32(adler, buf, BUF_SIZE);
  }
  printf("crc32=%08x adler32=%08x\n", crc, adler);
  return 0;
}
