#include <stdio.h>
#include <string.h>
#include "sample.h"

/* Exercise every module and check the answers: exit 0 means all good. */
int main(void)
{
    int failed = 0;
#define CHECK(cond) do { if (!(cond)) { printf("FAILED: %s\n", #cond); failed++; } } while (0)
    CHECK(crc32("123456789", 9) == 0xcbf43926u);
    char b64[16];
    base64_encode((const unsigned char *)"distcc", 6, b64);
    CHECK(strcmp(b64, "ZGlzdGNj") == 0);
    CHECK(fnv1a("") == 0xcbf29ce484222325ull);
    int v[100];
    rng_seed(42);
    for (int i = 0; i < 100; i++) v[i] = (int)(rng_next() % 1000);
    sort_ints(v, 100);
    CHECK(is_sorted(v, 100));
    double d[] = {2, 4, 4, 4, 5, 5, 7, 9};
    CHECK(mean(d, 8) == 5 && stddev(d, 8) == 2);
    double a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8}, c[4];
    mat_mul(a, b, c, 2);
    CHECK(c[0] == 19 && c[3] == 50 && dot(a, b, 4) == 70);
    char s[] = "a,b,c", *parts[4];
    CHECK(str_split(s, ',', parts, 4) == 3 && strcmp(parts[2], "c") == 0);
    char r[] = "distcc";
    str_reverse(r);
    CHECK(strcmp(r, "cctsid") == 0);
    int ok;
    CHECK(parse_int(" -42", &ok) == -42 && ok);
    char h[32];
    fmt_human(h, sizeof h, 1536);
    CHECK(strcmp(h, "1.5 KiB") == 0);
    struct list *l = NULL;
    for (int i = 1; i <= 10; i++) l = list_push(l, i);
    CHECK(list_sum(l) == 55);
    list_free(l);
    CHECK(gcd(12, 18) == 6 && is_prime(97) && !is_prime(91));
    printf("%s\n", failed ? "sample: some checks failed" : "sample: all checks passed");
    return failed != 0;
}
