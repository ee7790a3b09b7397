#include <string.h>
#include "sample.h"

size_t str_split(char *s, char sep, char **parts, size_t max)
{
    size_t n = 0;
    while (n < max) {
        parts[n++] = s;
        char *c = strchr(s, sep);
        if (!c) break;
        *c = '\0';
        s = c + 1;
    }
    return n;
}

void str_reverse(char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n / 2; i++) {
        char t = s[i];
        s[i] = s[n - 1 - i];
        s[n - 1 - i] = t;
    }
}
