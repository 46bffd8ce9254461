/* sampler.c - a periodic sampler: every SAMPLE_MS it reads a simulated
 * temperature sensor and logs the reading with a sequence number and the
 * SysTick time.  The sensor is a slow triangle wave plus deterministic
 * noise (a linear congruential generator), so runs are reproducible. */
#include "board.h"

#define SAMPLE_MS 50u

static uint32_t noise_state = 12345u;

/* Millidegrees Celsius: 21.000 C +/- 2.000 C triangle, +/- 0.127 C noise. */
static int read_sensor(uint32_t seq)
{
  uint32_t phase = seq % 80u;
  int triangle = phase < 40u ? (int) phase * 100 - 2000 : 6000 - (int) phase * 100;
  noise_state = noise_state * 1103515245u + 12345u;
  int noise = (int) ((noise_state >> 16) & 0xffu) - 128;
  return 21000 + triangle + noise;
}

int main(void)
{
  fw_printf("sampler: start period_ms=%u sensor=sim-temp\n", SAMPLE_MS);
  uint32_t next = SAMPLE_MS;
  for (uint32_t seq = 0;; seq++) {
    while ((int32_t) (next - millis()) > 0)
      sleep_ms(1);
    int mc = read_sensor(seq);
    int whole = mc / 1000;
    int frac = (mc < 0 ? -mc : mc) % 1000;
    fw_printf("sampler: seq=%u t_ms=%u temp=%d.%03u C\n", (unsigned) seq,
              (unsigned) millis(), whole, (unsigned) frac);
    next += SAMPLE_MS;
  }
}
