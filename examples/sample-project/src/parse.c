#include <ctype.h>
#include "sample.h"

long parse_int(const char *s, int *ok)
{
    long v = 0;
    int neg = 0;
    *ok = 0;
    while (isspace((unsigned char)*s)) s++;
    if (*s == '-' || *s == '+') neg = *s++ == '-';
    if (!isdigit((unsigned char)*s)) return 0;
    while (isdigit((unsigned char)*s)) v = v * 10 + (*s++ - '0');
    *ok = *s == '\0';
    return neg ? -v : v;
}
