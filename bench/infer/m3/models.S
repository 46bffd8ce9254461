/* models.S - the benchmark's models and inputs in the firmware's rodata;
 * the directory that holds them (written by gen_bench_models.py) is given
 * to the assembler with -Wa,-I<dir>. */
#define BLOB(name, file)               \
  .section .rodata.name, "a";          \
  .balign 16;                          \
  .global name##_start, name##_end;    \
name##_start:                          \
  .incbin file;                        \
name##_end:

BLOB(fc_1024_tflite, "fc_1024.tflite")
BLOB(fc_1024_in, "fc_1024.in.bin")
BLOB(conv_3x3_tflite, "conv_3x3.tflite")
BLOB(conv_3x3_in, "conv_3x3.in.bin")
BLOB(kws_cnn_tflite, "kws_cnn.tflite")
BLOB(kws_cnn_in, "kws_cnn.in.bin")
