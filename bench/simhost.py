"""Hosts that use little CPU (bench/rebuild.py --simulate): a farm of
many hosts on a 2-core machine, where the client's own CPU and the link
are the limits, as with a laptop feeding a farm over a VPN.

Each host's compiler is a wrapper that does not compile (a small C
program built at install, so it costs the shared cores next to nothing,
as the hosts it stands for would). It finds which
source the job is (pump mode: the input argument ends with the source's
path; plain mode: the preprocessed text's first line marker names it),
reads its input whole, holds the job for the seconds a local compile of
that source took (a table measured once before the builds, the same for
both clients) and writes the object that local compile made (and, for
pump mode's server, a dependency file naming the source alone). Anything
that is not a compile (the compiler check's questions) runs the real
compiler.

What is simulated is the hosts' CPU only: the daemons are real, receive
every byte over the shaped link, write pump mode's files, and the
clients are real and unchanged. The held time is the whole local compile
(preprocessor included) for both clients: 3.4's hosts only compile
preprocessed text, so it is a little longer than theirs would be, and
pump mode's hosts preprocess too, so it is theirs.
"""

import concurrent.futures
import json
import os
import shutil
import subprocess
import time

# In C, not Python: a Python start-up costs ~30 ms of CPU per job, on the
# 2 cores the client shares with every host here, for both clients alike,
# which these hosts are meant not to use (2 s of a 4-5 s liblzma build).
WRAPPER = r"""/* bench/simhost.py's compiler: hold the job for the table's seconds,
   write the local compile's object; run the real compiler otherwise. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double wall(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* The file a line marker `# 1 "path"` names, or NULL. */
static char *marker(char *line) {
    if (strncmp(line, "# ", 2) != 0 || !isdigit((unsigned char)line[2])) return NULL;
    char *p = line + 2;
    while (isdigit((unsigned char)*p)) p++;
    if (strncmp(p, " \"", 2) != 0) return NULL;
    char *q = strchr(p + 2, '"');
    if (!q) return NULL;
    *q = 0;
    return p + 2;
}

static int ends_with(const char *s, const char *t) {
    size_t n = strlen(s), m = strlen(t);
    return n >= m && strcmp(s + n - m, t) == 0;
}

int main(int argc, char **argv) {
    double t0 = now(), w0 = wall();
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    char real[4096];
    snprintf(real, sizeof real, "/usr/bin/%%s", base);
    int c = 0, e = 0, o = -1, mf = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-c")) c = 1;
        if (!strcmp(argv[i], "-E")) e = 1;
        if (!strcmp(argv[i], "-o") && i + 1 < argc) o = i + 1;
        if (!strcmp(argv[i], "-MF") && i + 1 < argc) mf = i + 1;
    }
    if (!c || o < 0 || e) {
        argv[0] = real;
        execv(real, argv);
        perror(real);
        return 127;
    }
    /* The table: "seconds<TAB>object<TAB>source" lines. */
    static char tab[1 << 20];
    FILE *f = fopen(%(table)s, "r");
    size_t tn = f ? fread(tab, 1, sizeof tab - 1, f) : 0;
    if (f) fclose(f);
    tab[tn] = 0;
    char *keys[4096], *objs[4096];
    double secs[4096];
    int n = 0, timeline = 0;
    for (char *line = strtok(tab, "\n"); line && n < 4096; line = strtok(NULL, "\n")) {
        if (!strcmp(line, "timeline")) {
            timeline = 1;
            continue;
        }
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2) continue;
        *t1 = *t2 = 0;
        secs[n] = atof(line), objs[n] = t1 + 1, keys[n] = t2 + 1;
        n++;
    }
    char *source = NULL;
    static char first[65536];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-")) {
            /* Read the input whole, as a compiler does. */
            static char sink[65536];
            size_t got = fread(first, 1, sizeof first - 1, stdin);
            first[got] = 0;
            while (fread(sink, 1, sizeof sink, stdin) > 0) {}
            char *nl = strchr(first, '\n');
            if (nl) *nl = 0;
            source = marker(first);
        } else if (ends_with(a, ".i") || ends_with(a, ".ii")) {
            FILE *in = fopen(a, "r");
            if (in && fgets(first, sizeof first, in)) {
                char *nl = strchr(first, '\n');
                if (nl) *nl = 0;
                source = marker(first);
            }
            if (in) fclose(in);
        } else if (a[0] != '-') {
            for (int k = 0; k < n; k++) {
                size_t la = strlen(a), lk = strlen(keys[k]);
                if (!strcmp(a, keys[k]) || (la > lk && a[la - lk - 1] == '/' && ends_with(a, keys[k])))
                    source = keys[k];
            }
        }
    }
    int k = 0;
    while (source && k < n && strcmp(keys[k], source)) k++;
    if (!source || k == n) {
        fprintf(stderr, "simhost: no table entry for %%s\n", source ? source : "(none)");
        return 1;
    }
    FILE *in = fopen(objs[k], "rb"), *out = fopen(argv[o], "wb");
    if (!in || !out) { perror("simhost"); return 1; }
    static char buf[1 << 16];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, r, out);
    fclose(in);
    if (fclose(out)) { perror("simhost"); return 1; }
    if (mf >= 0) {
        /* Pump mode's server asks for the dependency file it turns into DOTD. */
        FILE *d = fopen(argv[mf], "w");
        if (!d) { perror("simhost"); return 1; }
        fprintf(d, "%%s: %%s\n", argv[o], source);
        fclose(d);
    }
    double left = secs[k] - (now() - t0);
    if (left > 0) {
        struct timespec t = {(time_t)left, (long)((left - (time_t)left) * 1e9)};
        nanosleep(&t, NULL);
    }
    /* bench/timeline.py: when this host held the job (the client shows
       the compiler's messages, so both clients pass it on to make). */
    if (timeline) fprintf(stderr, "simhost-hold %%.3f %%.3f %%s\n", w0, wall(), keys[k]);
    return 0;
}
"""


def install(bindir, table):
    """The wrapper as gcc, g++ and their triplet names in BINDIR, reading
    the table at TABLE (written by write_table)."""
    machine = subprocess.run(["gcc", "-dumpmachine"], capture_output=True, text=True,
                             check=True).stdout.strip()
    src = os.path.join(bindir, "simhost.c")
    with open(src, "w") as f:
        f.write(WRAPPER % {"table": json.dumps(table)})
    exe = os.path.join(bindir, "simhost")
    subprocess.run(["gcc", "-O2", "-o", exe, src], check=True)
    for name in ("gcc", "cc", "g++", "c++", machine + "-gcc", machine + "-g++"):
        path = os.path.join(bindir, name)
        if os.path.lexists(path):
            os.unlink(path)
        shutil.copyfile(exe, path)
        os.chmod(path, 0o755)


def object_name(f):
    """The reference object of source F (a path relative to the project)."""
    return f.replace("/", "_") + ".o"


def measure(src, files, cc, cflags, ref, serial=True):
    """Compile FILES here, objects into REF: {file: seconds}. Serially
    for the table; with serial=False two at a time, for the objects only."""
    def one(f):
        obj = os.path.join(ref, object_name(f))
        t0 = time.monotonic()
        subprocess.run([cc] + cflags.split() + ["-c", f, "-o", obj], cwd=src, check=True)
        return f, time.monotonic() - t0
    with concurrent.futures.ThreadPoolExecutor(1 if serial else 2) as pool:
        return dict(pool.map(one, files))


def write_table(path, secs, ref, scale=1.0, timeline=False):
    """The table the wrappers read: each file's seconds (times SCALE: 0.25
    for hosts 4x as fast as this machine was) and its object in REF;
    TIMELINE: each job says on stderr when it was held."""
    with open(path + ".tmp", "w") as f:
        if timeline:
            f.write("timeline\n")
        for name, s in secs.items():
            f.write("%r\t%s\t%s\n" % (s * scale, os.path.join(ref, object_name(name)), name))
    os.chmod(path + ".tmp", 0o644)
    os.rename(path + ".tmp", path)
