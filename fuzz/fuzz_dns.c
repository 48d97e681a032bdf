/* libFuzzer target for the DNS answer parser (apps/dns.c): arbitrary bytes as the answer to a
 * fixed query. Must never crash; on success the result must satisfy its documented invariants.
 * The seed corpus (fuzz/corpus/fuzz_dns/) holds answers for id 0x1234, "www.example.com". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

#define FUZZ_ID 0x1234
#define FUZZ_NAME "www.example.com"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct us_dns_result res;
    int err = us_dns_parse_answer(data, size, FUZZ_ID, FUZZ_NAME, &res);
    if (err > 0)
        abort();
    if (err == 0) {
        if (res.n_addrs == 0 || res.n_addrs > US_DNS_MAX_ADDRS)
            abort();
        if (memchr(res.canonical, '\0', sizeof res.canonical) == NULL || res.canonical[0] == '\0')
            abort();
        if (res.rcode != 0 || res.ttl > 0x7fffffffu)
            abort();
    } else if (res.n_addrs != 0 || res.canonical[0] != '\0') {
        abort(); /* a failed parse leaves no partial result behind */
    }
    if (us_dns_strerror(err) == NULL)
        abort();
    return 0;
}
