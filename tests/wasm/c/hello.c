/* hello.c - the smallest WASI program: one line on stdout, exit 0. */
#include <stdio.h>

int main(void)
{
  printf("hello from wasm\n");
  return 0;
}
