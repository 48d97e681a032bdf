/* pcap tee: frames written with us_pcap_write() read back byte for byte, with nanosecond
 * timestamps, through libpcap; and, when tcpdump is installed, tcpdump reads the file too.
 * Files live in a mkdtemp() directory that an unchecked fixture creates and removes in the
 * parent process, so a failing (forked) test leaves nothing behind. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drivers/pcap.h"
#include "lib/testutil.h"

struct tmp {
    char dir[64];
    char path[96];
};

static struct tmp tmp; /* set by the fixture, once for the test case */

static void
tmp_make(void)
{
    snprintf(tmp.dir, sizeof(tmp.dir), "/tmp/ustack-pcap-XXXXXX");
    if (mkdtemp(tmp.dir) == NULL) { /* runs in the parent: no ck_assert here */
        perror("mkdtemp");
        abort();
    }
    snprintf(tmp.path, sizeof(tmp.path), "%s/cap.pcap", tmp.dir);
}

static void
tmp_remove(void)
{
    unlink(tmp.path);
    rmdir(tmp.dir);
}

/* An ARP request, a UDP datagram and a 70000-byte blob (longer than 64 KiB). */
#define N_FRAMES 4
static uint8_t frames[N_FRAMES][70000];
static const size_t lens[N_FRAMES] = {42, 60, 1514, 70000};
static const us_time_t stamps[N_FRAMES] = {
    US_SEC(1700000000) + 123456789, US_SEC(1700000000) + 123456790, US_SEC(1700000001), 0,
};

static void
fill_frames(void)
{
    static const uint8_t arp[42] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06, /* ethernet */
        0, 1, 0x08, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 1, 192, 0, 2, 1,      /* arp who-has */
        0, 0, 0, 0, 0, 0, 192, 0, 2, 2,
    };
    for (size_t i = 0; i < N_FRAMES; i++)
        for (size_t j = 0; j < lens[i]; j++)
            frames[i][j] = (uint8_t)(j * 13 + i);
    memcpy(frames[0], arp, sizeof(arp));
}

static void
write_capture(const char *path)
{
    struct us_pcap *p = us_pcap_open(path);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < N_FRAMES; i++)
        us_pcap_write(p, frames[i], lens[i], stamps[i]);
    ck_assert_int_eq(us_pcap_flush(p), 0);
    us_pcap_close(p);
}

START_TEST(test_roundtrip)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *data;
    pcap_t *r;
    size_t i;

    fill_frames();
    write_capture(tmp.path);
    r = pcap_open_offline_with_tstamp_precision(tmp.path, PCAP_TSTAMP_PRECISION_NANO, err);
    ck_assert_msg(r != NULL, "pcap_open_offline: %s", err);
    ck_assert_int_eq(pcap_datalink(r), DLT_EN10MB);
    for (i = 0; pcap_next_ex(r, &h, &data) == 1; i++) {
        ck_assert_uint_lt(i, N_FRAMES);
        ck_assert_uint_eq(h->len, lens[i]);
        ck_assert_uint_eq(h->caplen, lens[i]);
        ck_assert_mem_eq(data, frames[i], lens[i]);
        ck_assert_int_eq((us_time_t)h->ts.tv_sec * US_NSEC_PER_SEC + h->ts.tv_usec, stamps[i]);
    }
    ck_assert_uint_eq(i, N_FRAMES);
    pcap_close(r);
}
END_TEST

START_TEST(test_tcpdump_reads_it)
{
    /* US_TCPDUMP names another binary (tests/unit/runner_test.sh points it at a missing one to
     * see this test SKIP and the run fail). */
    const char *tcpdump = getenv("US_TCPDUMP") != NULL ? getenv("US_TCPDUMP") : "/usr/bin/tcpdump";
    char cmd[512], line[512];
    int lines = 0, arp_lines = 0;
    FILE *f;

    if (access(tcpdump, X_OK) != 0) {
        US_SKIP("%s not installed", tcpdump);
        return;
    }
    fill_frames();
    write_capture(tmp.path);
    /* -tt --time-stamp-precision=nano: epoch seconds with 9 decimals. Frames tcpdump cannot
     * decode get hex-dump continuation lines (starting with a tab); count packet lines only. */
    snprintf(cmd, sizeof(cmd),
             "%s -r %s -nn -tt --time-stamp-precision=nano 2>/dev/null", tcpdump, tmp.path);
    f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == '\t' || line[0] == ' ')
            continue;
        lines++;
        if (lines == 1)
            ck_assert_msg(strncmp(line, "1700000000.123456789 ", 21) == 0, "first line: %s", line);
        if (strstr(line, "ARP, Request who-has 192.0.2.2 tell 192.0.2.1") != NULL)
            arp_lines++;
    }
    ck_assert_int_eq(pclose(f), 0);
    ck_assert_int_eq(lines, N_FRAMES);
    ck_assert_int_eq(arp_lines, 1);
}
END_TEST

START_TEST(test_open_errors)
{
    errno = 0;
    ck_assert_ptr_null(us_pcap_open("/nonexistent-ustack-dir/x.pcap"));
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_ptr_null(us_pcap_open(""));
    ck_assert_int_eq(errno, EINVAL);
    us_pcap_close(NULL);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("drv_pcap");
    TCase *tc = tcase_create("pcap");
    tcase_add_unchecked_fixture(tc, tmp_make, tmp_remove);
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_tcpdump_reads_it);
    tcase_add_test(tc, test_open_errors);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
