/* hello.c - the hello/log example: a greeting, then a heartbeat line every
 * HEARTBEAT_MS, forever.  Lines received on the UART are echoed back as
 * "echo: ..." so that both directions of the RPMsg stand-in can be tested. */
#include "board.h"

#define HEARTBEAT_MS 100u

static char line[80];
static unsigned line_len;

static void poll_input(void)
{
  char c;
  while (uart_getc(&c)) {
    if (c == '\r' || c == '\n') {
      if (line_len > 0) {
        line[line_len] = '\0';
        fw_printf("echo: %s\n", line);
        line_len = 0;
      }
    } else if (line_len < sizeof line - 1) {
      line[line_len++] = c;
    }
  }
}

int main(void)
{
  fw_printf("hello: edgecr firmware on mps2-an385 (Cortex-M3) says hello\n");
  uint32_t next = HEARTBEAT_MS;
  for (unsigned beat = 1;; beat++) {
    while (millis() < next) {
      poll_input();
      sleep_ms(1);
    }
    fw_printf("hello: heartbeat %u uptime_ms=%u\n", beat, (unsigned) millis());
    next += HEARTBEAT_MS;
  }
}
