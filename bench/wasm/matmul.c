/* matmul.c - matrix kernels: double-precision and int32 matrix multiply
 * (i-k-j loop order).  argv[1] scales the number of rounds. */
#include <stdint.h>
#include <stdio.h>

#define DEFAULT_SCALE 30 /* the benchmark size; tests pass 1 */
#include <stdlib.h>

#define N 160

static double A[N][N], B[N][N], C[N][N];
static int32_t IA[N][N], IB[N][N], IC[N][N];

int main(int argc, char **argv)
{
  int scale = argc > 1 ? atoi(argv[1]) : DEFAULT_SCALE;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      A[i][j] = (double) ((i * 7 + j * 3) % 17) / 8.0 - 1.0;
      B[i][j] = (double) ((i * 5 + j * 11) % 13) / 6.0 - 1.0;
      IA[i][j] = (i * 31 + j * 17) % 255 - 127;
      IB[i][j] = (i * 13 + j * 29) % 255 - 127;
    }
  double dsum = 0;
  uint32_t isum = 0;
  for (int r = 0; r < 3 * scale; r++) {
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++) { C[i][j] = 0; IC[i][j] = 0; }
    for (int i = 0; i < N; i++)
      for (int k = 0; k < N; k++) {
        double a = A[i][k];
        int32_t ia = IA[i][k];
        for (int j = 0; j < N; j++) {
          C[i][j] += a * B[k][j];
          IC[i][j] += ia * IB[k][j];
        }
      }
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++) {
        dsum += C[i][j] * (double) (r + 1);
        isum = isum * 31u + (uint32_t) IC[i][j];
      }
    A[r % N][r % N] += 0.5;
    IA[r % N][(r * 3) % N] += 1;
  }
  printf("double=%.6f int=%08x\n", dsum, isum);
  return 0;
}
