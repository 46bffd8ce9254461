/* crash.c - faults on purpose after a few log lines: executes an undefined
 * instruction (UsageFault, escalated to HardFault since UsageFault is not
 * enabled).  Exercises the crash report and the `crashed` state. */
#include "board.h"

#define LINES_BEFORE_FAULT 3u

int main(void)
{
  fw_printf("crash: boot\n");
  for (unsigned i = 1; i <= LINES_BEFORE_FAULT; i++) {
    sleep_ms(20);
    fw_printf("crash: line %u of %u before the fault\n", i, LINES_BEFORE_FAULT);
  }
  __asm__ volatile("udf #0");
  fw_printf("crash: still alive (the fault did not happen)\n");
  return 0;
}
