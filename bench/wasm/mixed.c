/* mixed.c - a mixed workload in the spirit of CoreMark (written from its
 * description, not its code): linked-list search/reverse/merge-sort, small
 * integer matrix operations, a character state machine that classifies
 * numbers in a text, and a CRC-16 over the results.  argv[1] scales. */
#include <stdint.h>
#include <stdio.h>

#define DEFAULT_SCALE 9 /* the benchmark size; tests pass 1 */
#include <stdlib.h>
#include <string.h>

/* ---- linked list ---- */
struct node {
  struct node *next;
  int16_t key;
  int16_t value;
};

#define LIST_N 400
static struct node pool[LIST_N];

static struct node *list_build(uint32_t seed)
{
  struct node *head = NULL;
  for (int i = 0; i < LIST_N; i++) {
    seed = seed * 1103515245u + 12345u;
    pool[i].key = (int16_t) ((seed >> 16) & 0x7fff);
    pool[i].value = (int16_t) i;
    pool[i].next = head;
    head = &pool[i];
  }
  return head;
}

static struct node *list_reverse(struct node *l)
{
  struct node *prev = NULL;
  while (l) {
    struct node *n = l->next;
    l->next = prev;
    prev = l;
    l = n;
  }
  return prev;
}

static struct node *list_find(struct node *l, int16_t key)
{
  while (l && l->key != key) l = l->next;
  return l;
}

static struct node *list_merge_sort(struct node *l, int by_value)
{
  /* Bottom-up merge sort on a singly linked list. */
  int k = 1;
  for (;;) {
    struct node *p = l, *tail = NULL;
    l = NULL;
    int merges = 0;
    while (p) {
      merges++;
      struct node *q = p;
      int psize = 0;
      for (int i = 0; i < k && q; i++) { psize++; q = q->next; }
      int qsize = k;
      while (psize > 0 || (qsize > 0 && q)) {
        struct node *e;
        if (psize == 0) { e = q; q = q->next; qsize--; }
        else if (qsize == 0 || !q) { e = p; p = p->next; psize--; }
        else {
          int a = by_value ? p->value : p->key, b = by_value ? q->value : q->key;
          if (a <= b) { e = p; p = p->next; psize--; }
          else { e = q; q = q->next; qsize--; }
        }
        if (tail) tail->next = e; else l = e;
        tail = e;
      }
      p = q;
    }
    tail->next = NULL;
    if (merges <= 1) return l;
    k *= 2;
  }
}

/* ---- matrix ---- */
#define MN 24
static int16_t ma[MN][MN], mb[MN][MN];
static int32_t mc[MN][MN];

static uint32_t matrix_round(int16_t add)
{
  uint32_t sum = 0;
  for (int i = 0; i < MN; i++)
    for (int j = 0; j < MN; j++) ma[i][j] = (int16_t) (ma[i][j] + add);
  for (int i = 0; i < MN; i++)
    for (int j = 0; j < MN; j++) {
      int32_t acc = 0;
      for (int k = 0; k < MN; k++) acc += ma[i][k] * mb[k][j];
      mc[i][j] = acc;
      sum += (uint32_t) (acc > 0 ? acc >> 2 : -acc);
    }
  for (int i = 0; i < MN; i++)
    for (int j = 0; j < MN; j++) ma[i][j] = (int16_t) (ma[i][j] - add);
  return sum;
}

/* ---- state machine ---- */
enum state { S_START, S_INT, S_FLOAT, S_EXP, S_SCI, S_INVALID, S_COUNT };

static enum state step(enum state s, char c)
{
  int digit = c >= '0' && c <= '9';
  switch (s) {
  case S_START:
    if (digit || c == '+' || c == '-') return S_INT;
    if (c == '.') return S_FLOAT;
    return S_INVALID;
  case S_INT:
    if (digit) return S_INT;
    if (c == '.') return S_FLOAT;
    if (c == 'e' || c == 'E') return S_EXP;
    return S_INVALID;
  case S_FLOAT:
    if (digit) return S_FLOAT;
    if (c == 'e' || c == 'E') return S_EXP;
    return S_INVALID;
  case S_EXP:
    if (digit || c == '+' || c == '-') return S_SCI;
    return S_INVALID;
  case S_SCI:
    return digit ? S_SCI : S_INVALID;
  default:
    return S_INVALID;
  }
}

static const char *words[] = {"5012", "1234", "-874", "+122", "35.54", "0.001", ".125",
                              "5.500e+3", "-.123e-2", "-87e+832", "+0.6e-12", "T0.3e-1F",
                              "-T.T++Tq", "1T3.4e4z", "34.0e-T^", "12", "99.9", "7e7"};

static void classify(const char *text, uint32_t counts[S_COUNT])
{
  enum state s = S_START;
  for (const char *p = text;; p++) {
    if (*p == ',' || *p == 0) {
      counts[s]++;
      s = S_START;
      if (*p == 0) return;
    } else {
      s = step(s, *p);
    }
  }
}

static uint16_t crc16(uint16_t crc, uint32_t v)
{
  for (int b = 0; b < 32; b++) {
    int bit = (int) ((v >> b) & 1) ^ (crc & 1);
    crc >>= 1;
    if (bit) crc ^= 0xA001;
  }
  return crc;
}

int main(int argc, char **argv)
{
  int scale = argc > 1 ? atoi(argv[1]) : DEFAULT_SCALE;
  static char text[4096];
  size_t len = 0;
  for (int i = 0; len + 16 < sizeof text; i++) {
    const char *w = words[(i * 7) % (int) (sizeof words / sizeof words[0])];
    size_t n = strlen(w);
    memcpy(text + len, w, n);
    len += n;
    text[len++] = ',';
  }
  text[len - 1] = 0;
  for (int i = 0; i < MN; i++)
    for (int j = 0; j < MN; j++) {
      ma[i][j] = (int16_t) ((i * 3 + j * 5) % 23 - 11);
      mb[i][j] = (int16_t) ((i * 7 + j * 2) % 19 - 9);
    }
  uint16_t crc = 0;
  for (int r = 0; r < 500 * scale; r++) {
    struct node *l = list_build((uint32_t) r + 1);
    struct node *f = list_find(l, pool[(r * 13) % LIST_N].key);
    crc = crc16(crc, f ? (uint32_t) f->value : 0xffffffffu);
    l = list_reverse(l);
    l = list_merge_sort(l, 0);
    crc = crc16(crc, (uint32_t) (uint16_t) l->key);
    l = list_merge_sort(l, 1);
    crc = crc16(crc, (uint32_t) (uint16_t) l->next->key);
    crc = crc16(crc, matrix_round((int16_t) (r & 7)));
    uint32_t counts[S_COUNT] = {0};
    if (r % 4 == 0) {
      text[(r * 31) % (len - 1)] ^= 1;
      classify(text, counts);
      text[(r * 31) % (len - 1)] ^= 1;
      for (int s = 0; s < S_COUNT; s++) crc = crc16(crc, counts[s]);
    }
  }
  printf("crc16=%04x\n", crc);
  return 0;
}
