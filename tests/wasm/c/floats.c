/* floats.c - floating point through printf and libm: the output must match
 * a native build of the same file (the test compares them). */
#include <math.h>
#include <stdio.h>

int main(void)
{
  double x = 0.0;
  for (int i = 1; i <= 1000; i++)
    x += 1.0 / ((double) i * i);
  printf("basel=%.15f pi=%.15f\n", x, sqrt(6.0 * x));
  printf("sin=%.12f cos=%.12f tan=%.12f\n", sin(1.0), cos(1.0), tan(0.5));
  printf("exp=%.12f log=%.12f pow=%.12f\n", exp(2.5), log(10.0), pow(2.0, 0.5));
  printf("atan2=%.12f hypot=%.12f fmod=%.12f\n", atan2(1.0, -1.0), hypot(3.0, 4.0),
         fmod(10.5, 3.0));
  float f = 1.0f;
  for (int i = 0; i < 100; i++)
    f = f * 1.1f + 0.01f;
  printf("float=%.6e\n", (double) f);
  printf("floor=%.1f ceil=%.1f trunc=%.1f round=%.1f rint=%.1f\n", floor(-2.5), ceil(-2.5),
         trunc(-2.5), round(-2.5), rint(-2.5));
  /* The sign of a computed NaN is not specified by WebAssembly: print
   * only that it is one. */
  volatile double minus_one = -1.0;
  printf("inf=%f isnan=%d negzero=%g\n", 1.0 / 0.0, isnan(sqrt(minus_one)), -0.0);
  printf("conv=%d %u %lld\n", (int) -3.99, (unsigned) 3.99e9, (long long) -1e18);
  printf("tiny=%g huge=%g\n", 4.9e-324, 1.7976931348623157e308);
  printf("strtod=%.17g\n", 0.1 + 0.2);
  return 0;
}
