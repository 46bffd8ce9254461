/* fmt.c - a small printf for the firmware's log lines (no C library). */
#include <stdarg.h>

#include "board.h"

static void put_number(uint32_t value, unsigned base, int width, char pad, bool negative)
{
  char digits[12];
  int n = 0;
  do {
    uint32_t d = value % base;
    digits[n++] = (char) (d < 10 ? '0' + d : 'a' + d - 10);
    value /= base;
  } while (value != 0 && n < (int) sizeof digits);
  if (negative)
    width--;
  if (negative && pad == '0')
    uart_putc('-');
  for (int i = n; i < width; i++)
    uart_putc(pad);
  if (negative && pad != '0')
    uart_putc('-');
  while (n > 0)
    uart_putc(digits[--n]);
}

void fw_printf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  for (const char *p = fmt; *p; p++) {
    if (*p != '%') {
      uart_putc(*p);
      continue;
    }
    p++;
    char pad = ' ';
    int width = 0;
    if (*p == '0') {
      pad = '0';
      p++;
    }
    while (*p >= '0' && *p <= '9')
      width = width * 10 + (*p++ - '0');
    switch (*p) {
    case 's': uart_puts(va_arg(ap, const char *)); break;
    case 'c': uart_putc((char) va_arg(ap, int)); break;
    case 'u': put_number(va_arg(ap, unsigned), 10, width, pad, false); break;
    case 'x': put_number(va_arg(ap, unsigned), 16, width, pad, false); break;
    case 'd': {
      int v = va_arg(ap, int);
      uint32_t mag = v < 0 ? 0u - (uint32_t) v : (uint32_t) v;
      put_number(mag, 10, width, pad, v < 0);
      break;
    }
    case '%': uart_putc('%'); break;
    case '\0': p--; break;
    default: uart_putc('%'); uart_putc(*p); break;
    }
  }
  va_end(ap);
}
