/* spin.c - never ends on its own: the --fuel test stops it. */
#include <stdio.h>

volatile unsigned long counter;

int main(void)
{
  printf("spinning\n");
  fflush(stdout);
  for (;;)
    counter++;
}
