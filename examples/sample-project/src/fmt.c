#include <stdio.h>
#include "sample.h"

int fmt_human(char *buf, size_t len, double bytes)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) { bytes /= 1024; u++; }
    return snprintf(buf, len, "%.1f %s", bytes, units[u]);
}
