/* Crash and rebalance tests of `streamguard stream` against a librdkafka mock cluster (fixture
 * in stream_fixture.h): kill -9 at random points N times (SG_CRASH_ITERS, default 5: each
 * run costs the mock's ~3 s group join; tests/e2e/stream_crash.sh does 12 on the replay path,
 * `SG_CRASH_ITERS=10` gives the full Kafka loop), then a final run, gives a store
 * byte-identical (canonical dump, offsets included) to a clean run; two processes in one group
 * with one killed mid-way leave the survivor's store complete and identical to a clean run. */
#include "stream_fixture.h"

/* The clean reference: one uninterrupted run. */
static void test_clean_reference(void **state)
{
    (void)state;
    char db[128];
    snprintf(db, sizeof db, "%s/kafka.db", workdir);
    assert_int_equal(wait_exit(spawn_stream(db, "clean", "3s", TOPIC)), 0);
}

static void test_kill9_loop(void **state)
{
    (void)state;
    char db[128], a[160], b[160], ref[128];
    snprintf(db, sizeof db, "%s/crash.db", workdir);
    snprintf(ref, sizeof ref, "%s/kafka.db", workdir);
    struct sg_rng r;
    sg_rng_seed(&r, 99);
    /* Offsets come from the store, not the group, so each run may use a fresh group: no
     * waiting for the killed member's session to expire. */
    int iters = getenv("SG_CRASH_ITERS") ? atoi(getenv("SG_CRASH_ITERS")) : 5;
    for (int i = 0; i < iters; i++) {
        char group[32];
        snprintf(group, sizeof group, "crash%d", i);
        pid_t pid = spawn_stream(db, group, "10s", TOPIC);
        wait_assigned(group);
        long ms = 100 + (long)sg_rng_below(&r, 1100);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        assert_int_equal(wait_exit(pid), 128 + SIGKILL);
    }
    assert_int_equal(wait_exit(spawn_stream(db, "crashfinal", "3s", TOPIC)), 0);
    /* the loop really interrupted work: some run resumed from offsets a killed run stored */
    sh("cat %s/crash*.log | grep -q 'from offset [0-9]* (store)'", workdir);
    snprintf(a, sizeof a, "%s/crash.dump", workdir);
    snprintf(b, sizeof b, "%s/clean.dump", workdir);
    dump(db, a, 0);
    dump(ref, b, 0);
    sh("cmp %s %s", a, b); /* identical, offsets included */
}

static void test_two_consumers_one_killed(void **state)
{
    (void)state;
    char dba[128], dbb[128], a[160], b[160], ref[128];
    snprintf(dba, sizeof dba, "%s/two_a.db", workdir);
    snprintf(dbb, sizeof dbb, "%s/two_b.db", workdir);
    snprintf(ref, sizeof ref, "%s/kafka.db", workdir);
    pid_t pa = spawn_stream(dba, "pair", "20s", TOPIC);
    wait_assigned("pair");
    char log_a[160], log_b[160];
    snprintf(log_a, sizeof log_a, "%s/pair.log", workdir);
    snprintf(log_b, sizeof log_b, "%s/pair_a.log", workdir);
    rename(log_a, log_b);
    pid_t pb = spawn_stream(dbb, "pair", "5s", TOPIC);
    wait_assigned("pair"); /* B joined: the group rebalanced and split the partitions */
    usleep(300000);
    kill(pa, SIGKILL);
    assert_int_equal(wait_exit(pa), 128 + SIGKILL);
    assert_int_equal(wait_exit(pb), 0);
    /* the survivor took A's partitions over from the beginning of the log: its store holds the
     * complete, correct result */
    snprintf(a, sizeof a, "%s/two_b.dump", workdir);
    snprintf(b, sizeof b, "%s/clean2.dump", workdir);
    dump(dbb, a, 0);
    dump(ref, b, 0);
    sh("cmp %s %s", a, b);
    /* B really took partitions over after A died: it was assigned twice */
    sh("test $(grep -c 'assigned security-events' %s/pair.log) -gt %d", workdir, NPART / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_reference),
        cmocka_unit_test(test_kill9_loop),
        cmocka_unit_test(test_two_consumers_one_killed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
