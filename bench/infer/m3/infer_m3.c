/* infer_m3.c - instructions per multiply-accumulate of the inference
 * library (src/infer) on Cortex-M3, counted under QEMU (mps2-an385).
 *
 * QEMU runs with `-icount shift=0`: the virtual clock then advances exactly
 * 1 ns per executed guest instruction (2^0), and a device that reads the
 * clock in the middle of a translation block sees the exact count.  The
 * SysTick counts the 25 MHz core clock of the board, i.e. one tick per 40
 * ns of virtual time = per 40 instructions.  So instructions = ticks x 40,
 * with a resolution of 40 instructions per reading.  The firmware verifies
 * that factor first on a loop whose instruction count is known from its
 * code (2 instructions per iteration, `subs`/`bne`), then times one ei_run
 * of each embedded model (models.S: bench/infer/gen_bench_models.py's
 * models) and prints:
 *   calib iters N ticks T insns_per_iter X
 *   model NAME macs M insns I insns_per_mac Q arena A
 * The SysTick is free-running (no interrupt, 24-bit reload), so one reading
 * covers up to 2^24 x 40 = 671 M instructions. */
#include <stdint.h>

#include "board.h"
#include "infer.h"

#define SYST_CSR (*(volatile uint32_t *) 0xE000E010)
#define SYST_RVR (*(volatile uint32_t *) 0xE000E014)
#define SYST_CVR (*(volatile uint32_t *) 0xE000E018)
#define INSNS_PER_TICK 40u   /* 1 insn = 1 ns (shift 0); 25 MHz = 40 ns per tick */

struct blob { const uint8_t *start, *end; };
#define BLOB(n) extern const uint8_t n##_start[], n##_end[];
BLOB(fc_1024_tflite) BLOB(fc_1024_in) BLOB(conv_3x3_tflite) BLOB(conv_3x3_in)
BLOB(kws_cnn_tflite) BLOB(kws_cnn_in)

static uint8_t arena[24 * 1024];
static uint8_t out[8192];

static void systick_free_running(void)
{
  SYST_CSR = 0;
  SYST_RVR = 0xFFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 5;   /* enable, core clock, no interrupt */
}

static uint32_t ticks_since(uint32_t start)
{
  return (start - SYST_CVR) & 0xFFFFFFu;   /* counts down */
}

static void calibrate(void)
{
  const uint32_t iters = 1000000;
  uint32_t n = iters, t0 = SYST_CVR;
  __asm__ volatile("1: subs %0, %0, #1\n bne 1b\n" : "+r"(n) : : "cc");
  uint32_t t = ticks_since(t0);
  uint32_t x100 = (uint32_t) ((uint64_t) t * INSNS_PER_TICK * 100 / iters);
  fw_printf("calib iters %u ticks %u insns_per_iter %u.%02u\n", (unsigned) iters, (unsigned) t,
            (unsigned) (x100 / 100), (unsigned) (x100 % 100));
}

static void bench(const char *name, const uint8_t *m, const uint8_t *m_end, const uint8_t *in,
                  const uint8_t *in_end)
{
  ei_plan *plan;
  ei_error err;
  if (ei_plan_build(m, (size_t) (m_end - m), arena, sizeof arena, &plan, &err) != EI_OK) {
    fw_printf("model %s error %d op %d: %s\n", name, err.code, err.op, err.msg);
    return;
  }
  size_t olen = ei_output_bytes(plan);
  uint32_t t0 = SYST_CVR;
  int r = ei_run(plan, in, (size_t) (in_end - in), out, olen <= sizeof out ? olen : 0, &err);
  uint32_t t = ticks_since(t0);
  if (r != EI_OK) {
    fw_printf("model %s error %d op %d: %s\n", name, err.code, err.op, err.msg);
    return;
  }
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < olen; i++)
    h = (h ^ out[i]) * 16777619u;
  uint64_t insns = (uint64_t) t * INSNS_PER_TICK, macs = ei_plan_work(plan);
  uint32_t q100 = (uint32_t) (insns * 100 / macs);
  fw_printf("model %s macs %u insns %u insns_per_mac %u.%02u arena %u out %08x\n", name, (unsigned) macs,
            (unsigned) insns, (unsigned) (q100 / 100), (unsigned) (q100 % 100),
            (unsigned) ei_arena_used(plan), (unsigned) h);
}

int main(void)
{
  systick_free_running();
  calibrate();
  bench("fc_1024", fc_1024_tflite_start, fc_1024_tflite_end, fc_1024_in_start, fc_1024_in_end);
  bench("conv_3x3", conv_3x3_tflite_start, conv_3x3_tflite_end, conv_3x3_in_start, conv_3x3_in_end);
  bench("kws_cnn", kws_cnn_tflite_start, kws_cnn_tflite_end, kws_cnn_in_start, kws_cnn_in_end);
  return 0;
}
