/* test_chanlib.c - src/channel: declarations (every limit, errors naming
 * the field), and a channel's files: created at their exact size,
 * validated, a garbled header named field by field, removed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chanlib.h"
#include "util.h"

/* Parses JSON text as one declaration; returns the error message (or NULL
 * when it is accepted), to be freed. */
static char *decl_error(const char *text, struct edgecr_channel_decl *d)
{
  json_error_t je;
  json_t *j = json_loads(text, 0, &je);
  assert_non_null(j);
  edgecr_error_t err = NULL;
  int rc = edgecr_channel_decl_from_json(j, "plan.yaml", d, &err);
  json_decref(j);
  if (rc == 0) {
    assert_null(err);
    return NULL;
  }
  char *m = xstrdup(err->msg);
  edgecr_error_release(&err);
  return m;
}

static void expect_error(const char *text, const char *want)
{
  struct edgecr_channel_decl d;
  char *m = decl_error(text, &d);
  if (!m || !strstr(m, want))
    fail_msg("%s: got `%s`, want `%s`", text, m ? m : "(accepted)", want);
  free(m);
}

static void test_decl_ok(void **state)
{
  (void)state;
  struct edgecr_channel_decl d;
  assert_null(decl_error("{\"name\":\"imu\",\"kind\":\"fifo\",\"message_size\":64,\"depth\":16,"
                         "\"writers\":[\"ctl\"],\"readers\":[\"log\",\"ui\"],\"wait\":\"futex\",\"full\":\"overwrite\"}", &d));
  assert_string_equal(d.name, "imu");
  assert_int_equal(d.kind, ECHAN_FIFO);
  assert_int_equal(d.readers, 2);
  assert_int_equal(d.full_policy, ECHAN_FULL_OVERWRITE);
  assert_int_equal(d.wait_mode, ECHAN_WAIT_FUTEX);
  assert_null(decl_error("{\"name\":\"pose\",\"kind\":\"latest\",\"message_size\":24,\"writers\":1,\"readers\":3}", &d));
  assert_int_equal(d.depth, 2);
  assert_int_equal(d.full_policy, 0);
  assert_int_equal(edgecr_channel_data_size(&d), 4096 + 2 * 32);
}

static void test_decl_errors(void **state)
{
  (void)state;
  const char *base = "\"kind\":\"fifo\",\"message_size\":64,\"depth\":4,\"writers\":1,\"readers\":1";
  char buf[512];
#define E(fmt, want) do { snprintf(buf, sizeof buf, fmt, base); expect_error(buf, want); } while (0)
  E("{\"name\":\"\",%s}", "plan.yaml: `channels.?.name`");
  E("{\"name\":\"../x\",%s}", "`channels.?.name`");
  E("{\"name\":\".x\",%s}", "`channels.?.name`");
  E("{\"name\":\"a\",%s,\"color\":1}", "plan.yaml: `channels.a.color`: unknown field");
#undef E
  expect_error("{\"name\":\"a\",\"kind\":\"stack\",\"message_size\":8,\"depth\":1,\"writers\":1,\"readers\":1}",
               "`channels.a.kind`: must be `fifo` or `latest`");
  expect_error("{\"name\":\"a\",\"kind\":\"fifo\",\"message_size\":0,\"depth\":1,\"writers\":1,\"readers\":1}",
               "`channels.a.message_size`: 0: must be 1..1048576");
  expect_error("{\"name\":\"a\",\"kind\":\"fifo\",\"message_size\":8,\"depth\":0,\"writers\":1,\"readers\":1}",
               "`channels.a.depth`: 0: must be 1..65536");
  expect_error("{\"name\":\"a\",\"kind\":\"fifo\",\"message_size\":8,\"writers\":1,\"readers\":1}",
               "`channels.a.depth`: missing");
  expect_error("{\"name\":\"a\",\"kind\":\"latest\",\"message_size\":8,\"depth\":1,\"writers\":1,\"readers\":1}",
               "`channels.a.depth`: 1: must be 2..65536");
  expect_error("{\"name\":\"a\",\"kind\":\"fifo\",\"message_size\":8,\"depth\":2,\"writers\":[\"x\",\"y\"],\"readers\":1}",
               "`channels.a.writers`: 2 writers: a channel has exactly one writer");
  expect_error("{\"name\":\"a\",\"kind\":\"fifo\",\"message_size\":8,\"depth\":2,\"writers\":1,\"readers\":[]}",
               "`channels.a.readers`: 0 readers");
  expect_error("{\"name\":\"a\",\"kind\":\"fifo\",\"message_size\":8,\"depth\":2,\"writers\":1,\"readers\":[\"r\",\"r\"]}",
               "`channels.a.readers`: `r` is listed twice");
  expect_error("{\"name\":\"a\",\"kind\":\"fifo\",\"message_size\":8,\"depth\":2,\"writers\":1}",
               "`channels.a.readers`: missing");
  expect_error("{\"name\":\"a\",\"kind\":\"fifo\",\"message_size\":8,\"depth\":2,\"writers\":1,\"readers\":1,\"wait\":\"spin\"}",
               "`channels.a.wait`: must be `poll` or `futex`");
  expect_error("{\"name\":\"a\",\"kind\":\"fifo\",\"message_size\":8,\"depth\":2,\"writers\":1,\"readers\":1,\"full\":\"drop\"}",
               "`channels.a.full`: must be `fail` or `overwrite`");
  expect_error("{\"name\":\"a\",\"kind\":\"latest\",\"message_size\":8,\"writers\":1,\"readers\":1,\"full\":\"fail\"}",
               "`channels.a.full`: a latest-value channel is never full");
  expect_error("{\"name\":\"a\",\"kind\":\"fifo\",\"message_size\":1048576,\"depth\":65536,\"writers\":1,\"readers\":1}",
               "`channels.a.depth`: 65536 x 1048576 bytes: more than 64 MiB");
  expect_error("{\"name\":\"a\",\"kind\":\"fifo\",\"message_size\":-1,\"depth\":2,\"writers\":1,\"readers\":1}",
               "`channels.a.message_size`: must be a non-negative integer");
}

static struct edgecr_channel_decl sample(void)
{
  struct edgecr_channel_decl d = {.kind = ECHAN_FIFO, .msg_size = 60, .depth = 5, .writers = 1, .readers = 2,
                                  .wait_mode = ECHAN_WAIT_FUTEX, .full_policy = ECHAN_FULL_FAIL};
  strcpy(d.name, "imu");
  return d;
}

static void test_create_validate_remove(void **state)
{
  (void)state;
  char dir[] = "/tmp/edgecr-unit-chan-XXXXXX";
  assert_non_null(mkdtemp(dir));
  struct edgecr_channel_decl d = sample();
  edgecr_error_t err = NULL;
  assert_int_equal(edgecr_channel_create(dir, &d, &err), 0);
  cleanup_free char *data = xasprintf("%s/imu/data", dir);
  struct stat st;
  assert_int_equal(stat(data, &st), 0);
  assert_int_equal(st.st_size, 4096 + 5 * 72); /* exact: header page + depth * (8 + 64) */
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(edgecr_channel_validate(dir, "imu", &err), 0);
  /* A second create of the same name fails and keeps the first. */
  assert_int_equal(edgecr_channel_create(dir, &d, &err), -1);
  assert_int_equal(edgecr_error_errno(&err), EEXIST);
  edgecr_error_release(&err);
  assert_int_equal(edgecr_channel_validate(dir, "imu", &err), 0);

  /* Garble each field in turn: the error names the channel and the field. */
  /* The offset of each field's most significant byte (little endian), or
   * the name's first character. */
  static const struct { size_t off; const char *field; } fields[] = {
      {3, "magic"}, {5, "version"}, {7, "kind"}, {11, "msg_size"}, {15, "depth"}, {19, "slot_stride"},
      {23, "readers"}, {27, "writers"}, {29, "full_policy"}, {31, "wait_mode"}, {39, "data_offset"},
      {47, "file_size"}, {48, "name"}};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    int fd = open(data, O_RDWR);
    unsigned char orig, bad = 0x77;
    assert_int_equal(pread(fd, &orig, 1, (off_t)fields[i].off), 1);
    assert_int_equal(pwrite(fd, &bad, 1, (off_t)fields[i].off), 1);
    assert_int_equal(edgecr_channel_validate(dir, "imu", &err), -1);
    cleanup_free char *want = xasprintf("channel `imu`: header field `%s`", fields[i].field);
    if (!strstr(err->msg, want))
      fail_msg("offset %zu: `%s`, want `%s`", fields[i].off, err->msg, want);
    edgecr_error_release(&err);
    assert_int_equal(pwrite(fd, &orig, 1, (off_t)fields[i].off), 1);
    close(fd);
  }
  /* A file of the wrong size. */
  assert_int_equal(truncate(data, 4096 + 5 * 72 + 8), 0);
  assert_int_equal(edgecr_channel_validate(dir, "imu", &err), -1);
  assert_non_null(strstr(err->msg, "`file_size`: 4456, but the file has 4464 bytes"));
  edgecr_error_release(&err);
  assert_int_equal(truncate(data, 4096 + 5 * 72), 0);
  cleanup_free char *r1 = xasprintf("%s/imu/reader.1", dir);
  assert_int_equal(unlink(r1), 0);
  assert_int_equal(edgecr_channel_validate(dir, "imu", &err), -1);
  assert_non_null(strstr(err->msg, "channel `imu`: reader.1"));
  edgecr_error_release(&err);

  assert_int_equal(edgecr_channel_remove(dir, "imu", &err), 0);
  cleanup_free char *cdir = xasprintf("%s/imu", dir);
  assert_int_equal(access(cdir, F_OK), -1);
  assert_int_equal(edgecr_channel_remove(dir, "imu", &err), 0); /* gone: not an error */
  assert_int_equal(rmdir(dir), 0);
}

static void test_create_fails_cleanly(void **state)
{
  (void)state;
  char dir[] = "/tmp/edgecr-unit-chan-XXXXXX";
  assert_non_null(mkdtemp(dir));
  struct edgecr_channel_decl d = sample();
  d.writers = 2;
  edgecr_error_t err = NULL;
  assert_int_equal(edgecr_channel_create(dir, &d, &err), -1);
  assert_non_null(strstr(err->msg, "`channels.imu.writers`"));
  edgecr_error_release(&err);
  assert_int_equal(rmdir(dir), 0); /* nothing was left in it */
}

/* The mounts of each end: exactly its files, with the right rights. */
static void test_oci_mounts(void **state)
{
  (void)state;
  struct edgecr_channel_decl d = sample(); /* 2 readers */
  edgecr_error_t err = NULL;
  json_t *w = edgecr_channel_oci_mounts("/x", &d, true, 0, &err);
  assert_non_null(w);
  assert_int_equal(json_array_size(w), 3);
  static const char *const wfiles[][3] = {{"/x/imu/data", "/run/edgecr/channels/imu/data", "rw"},
                                          {"/x/imu/reader.0", "/run/edgecr/channels/imu/reader.0", "ro"},
                                          {"/x/imu/reader.1", "/run/edgecr/channels/imu/reader.1", "ro"}};
  for (size_t i = 0; i < 3; i++) {
    json_t *m = json_array_get(w, i);
    assert_string_equal(json_string_value(json_object_get(m, "source")), wfiles[i][0]);
    assert_string_equal(json_string_value(json_object_get(m, "destination")), wfiles[i][1]);
    assert_string_equal(json_string_value(json_object_get(m, "type")), "bind");
    assert_string_equal(json_string_value(json_array_get(json_object_get(m, "options"), 1)), wfiles[i][2]);
  }
  json_decref(w);
  json_t *r = edgecr_channel_oci_mounts("/x", &d, false, 1, &err);
  assert_int_equal(json_array_size(r), 2); /* data and its own page: not reader.0 */
  assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "source")), "/x/imu/data");
  assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(r, 0), "options"), 1)), "ro");
  assert_string_equal(json_string_value(json_object_get(json_array_get(r, 1), "source")), "/x/imu/reader.1");
  assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(r, 1), "options"), 1)), "rw");
  json_decref(r);
  assert_null(edgecr_channel_oci_mounts("/x", &d, false, 2, &err));
  assert_non_null(strstr(err->msg, "channel `imu`: reader 2: the channel has 2 readers"));
  edgecr_error_release(&err);
}

/* Annotations: the ends, the declaration as JSON again (what a plan
 * writes is what the runtime reads back), and the mounts of both ends. */
static void test_annotation_ends(void **state)
{
  (void)state;
  json_t *ann = json_pack("{s:s, s:s, s:s}", "org.edgecr.channel.pose",
                          "{\"reader\": 1, \"writer\": true, \"kind\": \"latest\", \"message_size\": 24, "
                          "\"readers\": [\"a\", \"b\"]}",
                          "org.edgecr.channel.imu",
                          "{\"writer\": true, \"kind\": \"fifo\", \"message_size\": 64, \"depth\": 8, "
                          "\"readers\": 1, \"full\": \"overwrite\", \"wait\": \"futex\"}",
                          "org.other", "x");
  struct edgecr_channel_end *e = NULL;
  size_t n = 0;
  edgecr_error_t err = NULL;
  assert_int_equal(edgecr_channel_ends_parse(ann, "c.json", &e, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_string_equal(e[0].decl.name, "imu"); /* sorted */
  assert_true(e[0].writer && !e[0].reader);
  assert_int_equal(e[0].decl.full_policy, ECHAN_FULL_OVERWRITE);
  assert_true(e[1].writer && e[1].reader && e[1].reader_index == 1 && e[1].decl.readers == 2);
  /* decl -> JSON -> decl is the identity */
  json_t *j = edgecr_channel_decl_json(&e[0].decl);
  json_object_set_new(j, "name", json_string("imu"));
  struct edgecr_channel_decl back;
  assert_int_equal(edgecr_channel_decl_from_json(j, "x", &back, &err), 0);
  assert_memory_equal(&back, &e[0].decl, sizeof back);
  json_decref(j);
  /* pose as writer and reader 1: data rw, reader.0 ro, reader.1 ro then rw on top */
  json_t *m = edgecr_channel_ends_mounts("/h", e + 1, 1, &err);
  assert_non_null(m);
  assert_int_equal(json_array_size(m), 5);
  assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "type")), "tmpfs");
  const char *want[][2] = {{"data", "rw"}, {"reader.0", "ro"}, {"reader.1", "ro"}, {"reader.1", "rw"}};
  for (size_t i = 0; i < 4; i++) {
    json_t *o = json_array_get(m, i + 1);
    char *dst = xasprintf("/run/edgecr/channels/pose/%s", want[i][0]);
    assert_string_equal(json_string_value(json_object_get(o, "destination")), dst);
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "options"), 1)), want[i][1]);
    free(dst);
  }
  json_decref(m);
  free(e);
  json_decref(ann);
}

static void test_annotation_errors(void **state)
{
  (void)state;
  static const char *const cases[][2] = {
      {"[1]", "c.json: annotation `org.edgecr.channel.imu`: must be a JSON object"},
      {"{\"writer\": 1}", "c.json: annotation `org.edgecr.channel.imu`: `writer`: must be true or false"},
      {"{\"reader\": -1}", "`reader`: must be the reader's index, 0..63"},
      {"{\"kind\": \"fifo\"}", "`writer`: the container is neither the writer nor a reader"},
      {"{\"reader\": 2, \"kind\": \"fifo\", \"message_size\": 8, \"depth\": 2, \"readers\": 2}",
       "`reader`: 2: the channel has 2 readers (0..1)"},
      {"{\"writer\": true, \"kind\": \"fifo\", \"message_size\": 8, \"readers\": 1}",
       "c.json: annotation `org.edgecr.channel.imu`: `channels.imu.depth`: missing"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct edgecr_channel_end e;
    edgecr_error_t err = NULL;
    assert_int_equal(edgecr_channel_end_parse("imu", cases[i][0], "c.json", &e, &err), -1);
    if (strstr(err->msg, cases[i][1]) == NULL)
      fail_msg("case %zu: got \"%s\", want \"%s\"", i, err->msg, cases[i][1]);
    edgecr_error_release(&err);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decl_ok),
      cmocka_unit_test(test_decl_errors),
      cmocka_unit_test(test_create_validate_remove),
      cmocka_unit_test(test_create_fails_cleanly),
      cmocka_unit_test(test_oci_mounts),
      cmocka_unit_test(test_annotation_ends),
      cmocka_unit_test(test_annotation_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
