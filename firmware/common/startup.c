/* startup.c - our own Cortex-M3 startup: the vector table, the reset handler
 * (.data copy, .bss zeroing, main), default exception handlers and the
 * HardFault handler that reports the fault on the UART and then signals the
 * crash to the emulated remote processor. */
#include <stdint.h>

#include "board.h"

/* Symbols of the linker script (mps2-an385.ld). */
extern uint32_t __data_start, __data_end, __data_load, __bss_start, __bss_end;
extern uint32_t __stack_top;

int main(void);
void reset_handler(void);
void hardfault_handler(void);
void hardfault_report(const uint32_t *frame, uint32_t exc_return);
void systick_handler(void);

static void default_handler(void)
{
  /* An exception nobody expects (NMI, an IRQ without a handler) is a crash
   * as much as a fault is: report it the same way. */
  uart_puts("unexpected exception\n");
  uart_puts(FW_CRASH_MARKER " unexpected exception\n");
  board_exit(1);
}

/* Cortex-M vector table: initial SP, then the exception entry points. Each
 * entry has its Thumb bit set by the compiler. */
__attribute__((section(".vectors"), used))
static void *const vector_table[16 + 32] = {
  [0] = &__stack_top,
  [1] = (void *) reset_handler,
  [2] = (void *) default_handler,   /* NMI */
  [3] = (void *) hardfault_handler,
  [4] = (void *) hardfault_handler, /* MemManage (escalates when disabled) */
  [5] = (void *) hardfault_handler, /* BusFault */
  [6] = (void *) hardfault_handler, /* UsageFault */
  [11] = (void *) default_handler,  /* SVCall */
  [12] = (void *) default_handler,  /* DebugMonitor */
  [14] = (void *) default_handler,  /* PendSV */
  [15] = (void *) systick_handler,
  /* 16.. external interrupts: none enabled by the examples. */
};

void reset_handler(void)
{
  uint32_t *src = &__data_load;
  for (uint32_t *dst = &__data_start; dst < &__data_end;)
    *dst++ = *src++;
  for (uint32_t *dst = &__bss_start; dst < &__bss_end;)
    *dst++ = 0;
  board_init();
  int status = main();
  board_exit(status);
}

/* Which stack holds the exception frame depends on EXC_RETURN bit 2 (MSP or
 * PSP); the naked stub passes the right one and LR to the C reporter. */
__attribute__((naked)) void hardfault_handler(void)
{
  __asm__ volatile(
      "tst lr, #4\n"
      "ite eq\n"
      "mrseq r0, msp\n"
      "mrsne r0, psp\n"
      "mov r1, lr\n"
      "b hardfault_report\n");
}

#define SCB_CFSR (*(volatile uint32_t *) 0xE000ED28)
#define SCB_HFSR (*(volatile uint32_t *) 0xE000ED2C)
#define SCB_MMFAR (*(volatile uint32_t *) 0xE000ED34)
#define SCB_BFAR (*(volatile uint32_t *) 0xE000ED38)

void hardfault_report(const uint32_t *frame, uint32_t exc_return)
{
  /* Stacked frame: r0 r1 r2 r3 r12 lr pc xpsr. */
  fw_printf("HardFault: pc=0x%08x lr=0x%08x xpsr=0x%08x exc_return=0x%08x\n",
            (unsigned) frame[6], (unsigned) frame[5], (unsigned) frame[7],
            (unsigned) exc_return);
  fw_printf("HardFault: cfsr=0x%08x hfsr=0x%08x mmfar=0x%08x bfar=0x%08x\n",
            (unsigned) SCB_CFSR, (unsigned) SCB_HFSR, (unsigned) SCB_MMFAR,
            (unsigned) SCB_BFAR);
  fw_printf(FW_CRASH_MARKER " HardFault pc=0x%08x\n", (unsigned) frame[6]);
  board_exit(1);
}
