/* Unit tests of sg_batch_opts, the option table shared by `streamguard batch` and
 * `streamguard-mpi batch`: flags become configuration overrides applied after the --set values
 * (a flag wins, as for every streamguard command), --chunk-kb only for MPI and range-checked,
 * usage errors as text, and the input choice: --input, else --brokers, else the configuration's
 * kafka.bootstrap.servers, else "no input". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "batch/sg_batch_opts.h"
#include "core/sg_config.h"
#include "core/sg_err.h"

#define PARSE(o, flags, err, ...)                                                              \
    parse(o, flags, err, (char *[]){"batch", __VA_ARGS__, NULL})

static int parse(struct sg_batch_opts *o, unsigned flags, char *err, char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    return sg_batch_opts_parse(o, argc, argv, flags, err, 256);
}

static void test_overrides_in_order(void **state)
{
    (void)state;
    char err[256];
    struct sg_batch_opts o;
    assert_int_equal(PARSE(&o, 0, err, "-i", "a.ndjson", "--input", "b", "--seed", "3",
                           "--set", "batch.seed=9", "-k", "auto", "--set", "batch.k=4",
                           "-t", "ev2", "-o", "out", "-q"),
                     SG_OK);
    assert_int_equal(o.ninputs, 2);
    assert_string_equal(o.inputs[1], "b");
    assert_true(o.quiet && !o.help && !o.brokers);
    struct sg_config cfg;
    sg_config_init(&cfg);
    assert_int_equal(sg_batch_opts_apply(&o, &cfg, err, sizeof err), SG_OK);
    assert_int_equal(cfg.batch.seed, 3);       /* the flag wins over --set ... */
    assert_string_equal(cfg.batch.k, "auto");  /* ... whatever their order */
    assert_string_equal(cfg.topics.events, "ev2");
    assert_string_equal(cfg.batch.output, "out");
    assert_int_equal(sg_batch_opts_resolve(&o, &cfg, err, sizeof err), SG_OK);
    assert_null(o.brokers); /* files win */
    sg_batch_opts_release(&o);
    assert_int_equal(PARSE(&o, 0, err, "--set", "batch.seed=9", "--seed", "3"), SG_OK);
    assert_int_equal(sg_batch_opts_apply(&o, &cfg, err, sizeof err), SG_OK);
    assert_int_equal(cfg.batch.seed, 3);
    sg_batch_opts_release(&o);
    /* several --set of one key: the last wins */
    assert_int_equal(PARSE(&o, 0, err, "--set", "batch.trees=5", "--set", "batch.trees=7"), SG_OK);
    assert_int_equal(sg_batch_opts_apply(&o, &cfg, err, sizeof err), SG_OK);
    assert_int_equal(cfg.batch.trees, 7);
    sg_batch_opts_release(&o);
    /* a bad value is refused by the configuration table */
    assert_int_equal(PARSE(&o, 0, err, "--contamination", "0.9"), SG_OK);
    assert_int_equal(sg_batch_opts_apply(&o, &cfg, err, sizeof err), SG_ERR_CONFIG);
    assert_non_null(strstr(err, "batch.contamination"));
    sg_batch_opts_release(&o);
    sg_config_release(&cfg);
}

static void test_errors_and_chunk(void **state)
{
    (void)state;
    char err[256];
    struct sg_batch_opts o;
    static const struct {
        const char *a, *b, *msg;
    } bad[] = {
        {"--bogus", NULL, "unknown option '--bogus'"},
        {"-i", NULL, "option '-i' needs a value"},
        {"--set", "novalue", "--set needs KEY=VALUE"},
        {"--chunk-kb", "64", "unknown option '--chunk-kb'"}, /* not for the plain binary */
        {"stray", NULL, "unexpected argument 'stray'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[] = {"batch", (char *)bad[i].a, (char *)bad[i].b, NULL};
        assert_int_equal(sg_batch_opts_parse(&o, bad[i].b ? 3 : 2, argv, 0, err, sizeof err),
                         SG_ERR_CONFIG);
        assert_string_equal(err, bad[i].msg);
        sg_batch_opts_release(&o);
    }
    assert_int_equal(PARSE(&o, 0, err, "-i", "x", "-b", "h:1"), SG_ERR_CONFIG);
    assert_non_null(strstr(err, "exclusive"));
    sg_batch_opts_release(&o);
    assert_int_equal(PARSE(&o, SG_BATCH_OPTS_MPI, err, "--chunk-kb", "64"), SG_OK);
    assert_int_equal(o.chunk_kb, 64);
    sg_batch_opts_release(&o);
    assert_int_equal(PARSE(&o, SG_BATCH_OPTS_MPI, err, "--chunk-kb", "3"), SG_ERR_CONFIG);
    assert_string_equal(err, "bad --chunk-kb '3' (4..1048576)");
    sg_batch_opts_release(&o);
    /* --help stops parsing: later garbage is not an error */
    assert_int_equal(PARSE(&o, 0, err, "--help", "--bogus"), SG_OK);
    assert_true(o.help);
    sg_batch_opts_release(&o);
}

static void test_brokers_from_config(void **state)
{
    (void)state;
    char err[256];
    struct sg_batch_opts o;
    struct sg_config cfg;
    sg_config_init(&cfg);
    assert_int_equal(PARSE(&o, 0, err, "-o", "out"), SG_OK);
    assert_int_equal(sg_batch_opts_resolve(&o, &cfg, err, sizeof err), SG_ERR_CONFIG);
    assert_non_null(strstr(err, "no input"));
    assert_int_equal(sg_config_set(&cfg, "kafka.bootstrap.servers", "k1:9092,k2:9092", err,
                                   sizeof err), SG_OK);
    assert_int_equal(sg_batch_opts_resolve(&o, &cfg, err, sizeof err), SG_OK);
    assert_string_equal(o.brokers, "k1:9092,k2:9092");
    sg_batch_opts_release(&o);
    /* --brokers wins over the file */
    assert_int_equal(PARSE(&o, 0, err, "--brokers", "flag:1"), SG_OK);
    assert_int_equal(sg_batch_opts_resolve(&o, &cfg, err, sizeof err), SG_OK);
    assert_string_equal(o.brokers, "flag:1");
    sg_batch_opts_release(&o);
    sg_config_release(&cfg);
}

static void test_params(void **state)
{
    (void)state;
    char err[256];
    struct sg_config cfg;
    struct sg_batch_params p;
    sg_config_init(&cfg);
    assert_int_equal(sg_config_set(&cfg, "batch.k", "auto", err, sizeof err), SG_OK);
    assert_int_equal(sg_config_set(&cfg, "batch.seed", "42", err, sizeof err), SG_OK);
    assert_int_equal(sg_batch_opts_params(&cfg, 3, &p, err, sizeof err), SG_OK);
    assert_int_equal(p.k, 0); /* auto: chosen by silhouette */
    assert_int_equal(p.threads, 3); /* batch.threads 0: the caller's default */
    assert_true(p.seed == 42);
    assert_int_equal(sg_config_set(&cfg, "batch.threads", "5", err, sizeof err), SG_OK);
    assert_int_equal(sg_config_set(&cfg, "batch.k", "7", err, sizeof err), SG_OK);
    assert_int_equal(sg_batch_opts_params(&cfg, 3, &p, err, sizeof err), SG_OK);
    assert_int_equal(p.threads, 5);
    assert_int_equal(p.k, 7);
    assert_int_equal(sg_config_set(&cfg, "batch.k", "7x", err, sizeof err), SG_OK);
    assert_int_equal(sg_batch_opts_params(&cfg, 3, &p, err, sizeof err), SG_ERR_CONFIG);
    assert_string_equal(err, "bad k '7x' (1..1000 or auto)");
    sg_config_release(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overrides_in_order),
        cmocka_unit_test(test_errors_and_chunk),
        cmocka_unit_test(test_brokers_from_config),
        cmocka_unit_test(test_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
