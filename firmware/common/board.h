/* board.h - the little board support the example firmware needs on the
 * MPS2 AN385 (QEMU mps2-an385): UART0 output/input, a 1 ms SysTick clock,
 * and the crash/exit signals the emulated remote processor watches for
 * (see docs/remoteproc.md, "Crash detection"). */
#ifndef FW_BOARD_H
#define FW_BOARD_H

#include <stdbool.h>
#include <stdint.h>

/* Line the HardFault handler prints last; the emulator marks the
 * processor `crashed` when it sees a line that starts with it. */
#define FW_CRASH_MARKER "rproc-crash:"

void board_init(void);

/* UART0 (CMSDK APB UART at 0x40004000). */
void uart_putc(char c);
void uart_puts(const char *s);
/* Returns false when no byte is waiting. */
bool uart_getc(char *out);

/* Milliseconds since board_init (SysTick at 1 kHz). */
uint32_t millis(void);
/* Sleep (WFI) until at least `ms` milliseconds passed; keeps QEMU idle. */
void sleep_ms(uint32_t ms);

/* Ends the emulation through semihosting SYS_EXIT: status 0 reports a normal
 * application exit, anything else a run-time error (QEMU exits 1). */
void board_exit(int status) __attribute__((noreturn));

/* printf subset: %s %c %d %u %x %%, with optional zero-pad/width (%08x). */
void fw_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
