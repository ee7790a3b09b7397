/* Declarations shared by the sample project's modules. */
#ifndef SAMPLE_H
#define SAMPLE_H
#include <stddef.h>
#include <stdint.h>

uint32_t crc32(const void *data, size_t len);
size_t base64_encode(const unsigned char *in, size_t len, char *out);
uint64_t fnv1a(const char *s);
void rng_seed(uint64_t seed);
uint64_t rng_next(void);
void sort_ints(int *v, size_t n);
int is_sorted(const int *v, size_t n);
double mean(const double *v, size_t n);
double stddev(const double *v, size_t n);
double dot(const double *a, const double *b, size_t n);
void mat_mul(const double *a, const double *b, double *c, size_t n);
size_t str_split(char *s, char sep, char **parts, size_t max);
void str_reverse(char *s);
long parse_int(const char *s, int *ok);
int fmt_human(char *buf, size_t len, double bytes);
struct list { int value; struct list *next; };
struct list *list_push(struct list *head, int value);
int list_sum(const struct list *head);
void list_free(struct list *head);
int gcd(int a, int b);
int is_prime(int n);
#endif
