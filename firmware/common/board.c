/* board.c - UART0, SysTick and semihosting exit on the MPS2 AN385. */
#include "board.h"

/* CMSDK APB UART0 (Cortex-M System Design Kit TRM, ARM DDI0479). */
#define UART0_BASE 0x40004000u
#define UART_DATA (*(volatile uint32_t *) (UART0_BASE + 0x000))
#define UART_STATE (*(volatile uint32_t *) (UART0_BASE + 0x004))
#define UART_CTRL (*(volatile uint32_t *) (UART0_BASE + 0x008))
#define UART_BAUDDIV (*(volatile uint32_t *) (UART0_BASE + 0x010))
#define UART_STATE_TXFULL (1u << 0)
#define UART_STATE_RXFULL (1u << 1)
#define UART_CTRL_TXEN (1u << 0)
#define UART_CTRL_RXEN (1u << 1)

/* SysTick (ARMv7-M ARM, B3.3). CLKSOURCE=1: the 25 MHz core clock. */
#define SYST_CSR (*(volatile uint32_t *) 0xE000E010)
#define SYST_RVR (*(volatile uint32_t *) 0xE000E014)
#define SYST_CVR (*(volatile uint32_t *) 0xE000E018)
#define CORE_CLOCK_HZ 25000000u

static volatile uint32_t ticks_ms;

void systick_handler(void)
{
  ticks_ms++;
}

void board_init(void)
{
  /* 16 is the smallest divisor the UART accepts; QEMU ignores the rate. */
  UART_BAUDDIV = 16;
  UART_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN;
  SYST_RVR = CORE_CLOCK_HZ / 1000u - 1u;
  SYST_CVR = 0;
  SYST_CSR = 7; /* enable, interrupt, core clock */
}

void uart_putc(char c)
{
  while (UART_STATE & UART_STATE_TXFULL)
    ;
  UART_DATA = (uint8_t) c;
}

void uart_puts(const char *s)
{
  while (*s)
    uart_putc(*s++);
}

bool uart_getc(char *out)
{
  if (!(UART_STATE & UART_STATE_RXFULL))
    return false;
  *out = (char) (UART_DATA & 0xffu);
  return true;
}

uint32_t millis(void)
{
  return ticks_ms;
}

void sleep_ms(uint32_t ms)
{
  uint32_t start = ticks_ms;
  while (ticks_ms - start < ms)
    __asm__ volatile("wfi");
}

/* Semihosting (ARM DUI0471, "Semihosting operations"): BKPT 0xAB with the
 * operation in r0 and the argument in r1.  SYS_EXIT (0x18) takes a reason
 * code; ADP_Stopped_ApplicationExit makes QEMU exit 0, any other reason 1. */
#define SYS_EXIT 0x18u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define ADP_STOPPED_RUNTIME_ERROR_UNKNOWN 0x20023u

void board_exit(int status)
{
  register uint32_t r0 __asm__("r0") = SYS_EXIT;
  register uint32_t r1 __asm__("r1") =
      status == 0 ? ADP_STOPPED_APPLICATION_EXIT : ADP_STOPPED_RUNTIME_ERROR_UNKNOWN;
  __asm__ volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
  /* Without semihosting the BKPT itself faults (a lockup inside the fault
   * handler); the crash marker line has been printed already. */
  for (;;)
    __asm__ volatile("wfi");
}
