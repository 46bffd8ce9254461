/* cmd_meta.c - `edgecr meta keygen|build|sign|verify|show`: tenant
 * metadata (docs/tenants.md, "Metadata").  Thin: the work is in
 * src/tenant/.  Lives in `edgecr-plan` (libcbor has no static archive in
 * Debian); `edgecr meta` execs it.
 *
 * Exit status: 0 success (for verify: every check passed), 1 otherwise,
 * with the reason on stderr. */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "log.h"
#include "tenant_linux.h"
#include "util.h"

static int write_output(const char *path, const void *data, size_t len, edgecr_error_t *err)
{
  if (write_file_atomic(path, data, len, 0644, err) < 0)
    return edgecr_error_wrap(err, "write `%s`", path);
  return 0;
}

static int meta_keygen(int argc, char **argv)
{
  static const struct option opts[] = {
    {"out", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
  };
  const char *dir = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'o': dir = optarg; break;
    case 'h':
      puts("usage: edgecr meta keygen --out DIR NAME\n"
           "writes DIR/NAME.key (private, mode 0600) and DIR/NAME.pub (copy it into the trust directory)");
      return 0;
    default: return cli_usage("meta keygen", "unknown option");
    }
  }
  if (dir == NULL || optind != argc - 1)
    return cli_usage("meta keygen", "expected --out DIR and one key NAME");
  edgecr_error_t err = NULL;
  if (tenant_keygen(dir, argv[optind], &err) < 0)
    return cli_fail(&err);
  printf("%s/%s.key\n%s/%s.pub\n", dir, argv[optind], dir, argv[optind]);
  return 0;
}

static int meta_build(int argc, char **argv)
{
  static const struct option opts[] = {
    {"module", required_argument, NULL, 'm'}, {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
  };
  const char *module = NULL, *out = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "m:o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'm': module = optarg; break;
    case 'o': out = optarg; break;
    case 'h':
      puts("usage: edgecr meta build FILE.yaml --module X.wasm -o meta.cbor\n"
           "compiles the YAML form to the CBOR payload, binding the module's SHA-256");
      return 0;
    default: return cli_usage("meta build", "unknown option");
    }
  }
  if (out == NULL || optind != argc - 1)
    return cli_usage("meta build", "expected FILE.yaml and -o OUT");
  const char *file = argv[optind];
  edgecr_error_t err = NULL;
  cleanup_free char *text = NULL;
  ssize_t len = read_all_file(file, &text, &err);
  if (len < 0)
    return cli_fail(&err);
  struct tenant_meta m;
  bool has_module = false;
  if (tenant_meta_from_yaml(file, text, (size_t) len, &m, &has_module, &err) < 0)
    return cli_fail(&err);
  if (module != NULL) {
    uint8_t d[TENANT_DIGEST_LEN];
    if (tenant_sha256_file(module, d, &err) < 0)
      return cli_fail(&err);
    if (has_module && memcmp(d, m.module_sha256, sizeof d) != 0)
      return cli_usage("meta build", "%s: `module` names another digest than --module %s", file, module);
    memcpy(m.module_sha256, d, sizeof d);
  } else if (!has_module) {
    return cli_usage("meta build", "%s has no `module` digest: give --module X.wasm", file);
  }
  size_t n = tenant_meta_encode(&m, NULL, 0);
  cleanup_free uint8_t *cbor = xmalloc0(n);
  tenant_meta_encode(&m, cbor, n);
  if (n > TENANT_META_MAX_BYTES)
    return cli_usage("meta build", "the metadata encodes to %zu bytes (at most %d)", n, TENANT_META_MAX_BYTES);
  if (write_output(out, cbor, n, &err) < 0)
    return cli_fail(&err);
  return 0;
}

static int meta_sign(int argc, char **argv)
{
  static const struct option opts[] = {
    {"key", required_argument, NULL, 'k'}, {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
  };
  const char *key = NULL, *out = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "k:o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'k': key = optarg; break;
    case 'o': out = optarg; break;
    case 'h':
      puts("usage: edgecr meta sign --key DIR/NAME.key meta.cbor -o meta.cose\n"
           "signs the payload as a COSE_Sign1 (EdDSA/Ed25519) with key id NAME");
      return 0;
    default: return cli_usage("meta sign", "unknown option");
    }
  }
  if (key == NULL || out == NULL || optind != argc - 1)
    return cli_usage("meta sign", "expected --key K, one payload file and -o OUT");
  edgecr_error_t err = NULL;
  cleanup_free uint8_t *payload = NULL;
  ssize_t len = tenant_read_file(argv[optind], &payload, &err);
  if (len < 0)
    return cli_fail(&err);
  if (tenant_form_of(payload, (size_t) len) != TENANT_FORM_PLAIN)
    return cli_usage("meta sign", "%s: not an unsigned payload (a CBOR map)", argv[optind]);
  cleanup_free uint8_t *cose = NULL;
  ssize_t n = tenant_sign(payload, (size_t) len, key, &cose, &err);
  if (n < 0 || write_output(out, cose, (size_t) n, &err) < 0) {
    edgecr_error_wrap(&err, "meta sign `%s`", argv[optind]);
    return cli_fail(&err);
  }
  return 0;
}

static int meta_verify(struct edgecr_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    {"trust-dir", required_argument, NULL, 't'}, {"module", required_argument, NULL, 'm'},
    {"running-version", required_argument, NULL, 'r'}, {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  struct tenant_verify_opts o = {.trust_dir = tenant_trust_dir(g->trust_dir), .now = (uint64_t) time(NULL)};
  unsigned long long v;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 't': o.trust_dir = optarg; break;
    case 'm': o.module_name = optarg; o.check_module = true; break;
    case 'r':
      if (parse_uint64(optarg, &v) < 0)
        return cli_usage("meta verify", "--running-version: `%s` is not a whole number", optarg);
      o.check_version = true;
      o.running_version = v;
      break;
    case 'h':
      puts("usage: edgecr [--trust-dir D] meta verify [--trust-dir D] [--module X.wasm]\n"
           "                           [--running-version N] meta.cose\n"
           "exit status: 0 every check passed, 1 refused (the reason on stderr)");
      return 0;
    default: return cli_usage("meta verify", "unknown option");
    }
  }
  if (optind != argc - 1)
    return cli_usage("meta verify", "expected one metadata file");
  const char *file = argv[optind];
  edgecr_error_t err = NULL;
  if (o.check_module && tenant_sha256_file(o.module_name, o.module_sha256, &err) < 0)
    return cli_fail(&err);
  cleanup_free uint8_t *buf = NULL;
  ssize_t len = tenant_read_file(file, &buf, &err);
  struct tenant_meta m;
  if (len < 0 || tenant_verify(buf, (size_t) len, file, &o, &m, &err) < 0)
    return cli_fail(&err);
  char digest[80];
  printf("%s: verified: tenant %s version %llu, key %s, module %s\n", file, m.id,
         (unsigned long long) m.version, m.kid, tenant_digest_str(m.module_sha256, digest, sizeof digest));
  return 0;
}

static int meta_show(int argc, char **argv)
{
  if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
    puts("usage: edgecr meta show FILE\n"
         "prints metadata (a CBOR payload or a COSE_Sign1, not verified) as JSON");
    return 0;
  }
  if (argc != 2)
    return cli_usage("meta show", "expected one metadata file");
  const char *file = argv[1];
  edgecr_error_t err = NULL;
  cleanup_free uint8_t *buf = NULL;
  ssize_t len = tenant_read_file(file, &buf, &err);
  if (len < 0)
    return cli_fail(&err);
  const uint8_t *payload = buf;
  size_t payload_len = (size_t) len;
  json_t *out = json_object();
  struct tenant_cose cose;
  if (tenant_form_of(buf, (size_t) len) != TENANT_FORM_PLAIN) {
    struct tenant_err e;
    if (tenant_cose_decode(buf, (size_t) len, &cose, &e) < 0) {
      json_decref(out);
      return cli_usage("meta show", "%s: neither a CBOR payload nor a COSE_Sign1: `%s`: %s", file, e.path,
                       e.reason);
    }
    char hex[2 * TENANT_SIG_LEN + 1];
    sodium_bin2hex(hex, sizeof hex, cose.sig, cose.sig_len);
    json_object_set_new(out, "signed", json_pack("{s:s, s:s, s:s, s:b}", "alg", "EdDSA", "kid", cose.kid,
                                                 "signature", hex, "verified", 0));
    payload = cose.payload;
    payload_len = cose.payload_len;
  }
  struct tenant_meta m;
  if (tenant_meta_decode_file(payload, payload_len, file, &m, &err) < 0) {
    json_decref(out);
    return cli_fail(&err);
  }
  json_object_set_new(out, "metadata", tenant_meta_to_json(&m));
  char *s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(out);
  if (s != NULL)
    puts(s);
  free(s);
  return 0;
}

int cmd_meta(struct edgecr_global *g, int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    FILE *f = argc < 2 ? stderr : stdout;
    fputs("usage: edgecr meta COMMAND ...\n"
          "  keygen --out DIR NAME                      an Ed25519 key pair\n"
          "  build FILE.yaml --module X.wasm -o OUT     YAML -> CBOR payload\n"
          "  sign --key NAME.key PAYLOAD -o OUT         CBOR payload -> COSE_Sign1\n"
          "  verify [--trust-dir D] [--module X.wasm] [--running-version N] FILE\n"
          "  show FILE                                  any metadata as JSON\n", f);
    return argc < 2;
  }
  const char *sub = argv[1];
  argc--;
  argv++;
  if (strcmp(sub, "keygen") == 0)
    return meta_keygen(argc, argv);
  if (strcmp(sub, "build") == 0)
    return meta_build(argc, argv);
  if (strcmp(sub, "sign") == 0)
    return meta_sign(argc, argv);
  if (strcmp(sub, "verify") == 0)
    return meta_verify(g, argc, argv);
  if (strcmp(sub, "show") == 0)
    return meta_show(argc, argv);
  return cli_usage("meta", "unknown subcommand `%s`", sub);
}
