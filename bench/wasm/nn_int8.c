/* nn_int8.c - int8 neural-network kernels as TinyML runs them: a 3x3
 * convolution layer (int8 weights and activations, int32 accumulators,
 * requantised with a fixed-point multiplier, ReLU), 2x2 max-pooling and a
 * dense layer, on a deterministic input.  argv[1] scales the inferences. */
#include <stdint.h>
#include <stdio.h>

#define DEFAULT_SCALE 9 /* the benchmark size; tests pass 1 */
#include <stdlib.h>

#define H 32
#define W 32
#define CIN 8
#define COUT 16
#define DENSE_OUT 10

static int8_t input[H][W][CIN];
static int8_t conv_w[COUT][3][3][CIN];
static int32_t conv_b[COUT];
static int8_t conv_out[H][W][COUT];
static int8_t pooled[H / 2][W / 2][COUT];
static int8_t dense_w[DENSE_OUT][(H / 2) * (W / 2) * COUT];
static int32_t logits[DENSE_OUT];

static int8_t requant(int32_t acc, int32_t mult, int shift)
{
  int64_t v = ((int64_t) acc * mult) >> shift;
  if (v < 0) v = 0;        /* ReLU */
  if (v > 127) v = 127;
  return (int8_t) v;
}

static void conv3x3(void)
{
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (int o = 0; o < COUT; o++) {
        int32_t acc = conv_b[o];
        for (int ky = 0; ky < 3; ky++) {
          int iy = y + ky - 1;
          if (iy < 0 || iy >= H) continue;
          for (int kx = 0; kx < 3; kx++) {
            int ix = x + kx - 1;
            if (ix < 0 || ix >= W) continue;
            const int8_t *in = input[iy][ix];
            const int8_t *wt = conv_w[o][ky][kx];
            for (int c = 0; c < CIN; c++)
              acc += (int32_t) in[c] * (int32_t) wt[c];
          }
        }
        conv_out[y][x][o] = requant(acc, 1 << 14, 20);
      }
}

static void maxpool(void)
{
  for (int y = 0; y < H / 2; y++)
    for (int x = 0; x < W / 2; x++)
      for (int c = 0; c < COUT; c++) {
        int8_t m = conv_out[2 * y][2 * x][c];
        if (conv_out[2 * y][2 * x + 1][c] > m) m = conv_out[2 * y][2 * x + 1][c];
        if (conv_out[2 * y + 1][2 * x][c] > m) m = conv_out[2 * y + 1][2 * x][c];
        if (conv_out[2 * y + 1][2 * x + 1][c] > m) m = conv_out[2 * y + 1][2 * x + 1][c];
        pooled[y][x][c] = m;
      }
}

static void dense(void)
{
  const int8_t *flat = &pooled[0][0][0];
  for (int o = 0; o < DENSE_OUT; o++) {
    int32_t acc = 0;
    for (int i = 0; i < (H / 2) * (W / 2) * COUT; i++)
      acc += (int32_t) flat[i] * (int32_t) dense_w[o][i];
    logits[o] = acc;
  }
}

int main(int argc, char **argv)
{
  int scale = argc > 1 ? atoi(argv[1]) : DEFAULT_SCALE;
  uint32_t s = 1;
#define NEXT() (s = s * 1664525u + 1013904223u, (int8_t) (s >> 24))
  for (int o = 0; o < COUT; o++) {
    conv_b[o] = (o - 8) * 64;
    for (int k = 0; k < 9 * CIN; k++) (&conv_w[o][0][0][0])[k] = NEXT();
  }
  for (int o = 0; o < DENSE_OUT; o++)
    for (int i = 0; i < (H / 2) * (W / 2) * COUT; i++) dense_w[o][i] = NEXT();
  uint32_t check = 0;
  int votes[DENSE_OUT] = {0};
  for (int r = 0; r < 20 * scale; r++) {
    for (int i = 0; i < H * W * CIN; i++) (&input[0][0][0])[i] = NEXT();
    conv3x3();
    maxpool();
    dense();
    int best = 0;
    for (int o = 0; o < DENSE_OUT; o++) {
      check = check * 31u + (uint32_t) logits[o];
      if (logits[o] > logits[best]) best = o;
    }
    votes[best]++;
  }
  printf("check=%08x votes=", check);
  for (int o = 0; o < DENSE_OUT; o++) printf("%d%c", votes[o], o + 1 < DENSE_OUT ? ',' : '\n');
  return 0;
}
