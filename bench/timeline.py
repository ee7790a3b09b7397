"""Where a build's wall time went, job by job (bench/rebuild.py
--timeline): when make started each client (a wrapper in front of CC
that notes its start and end), when a simulated host held the job
(bench/simhost.py's `simhost-hold` lines, passed on by both clients as
the compiler's messages) and, for our client, its own record of each
phase ($DISTCC_DIR/stats/jobs: blocked is the record's total less its
phases, i.e. waiting for a slot and starting up). One clock for all:
CLOCK_REALTIME, the same in every namespace.
"""

import os

WRAPPER = """#!/bin/bash
# bench/timeline.py: the client's start and end (bash's own clock, no fork).
s=$EPOCHREALTIME
"$@"
rc=$?
for a; do case $a in *.c|*.cc|*.cpp) f=$a;; esac; done
echo "$s $EPOCHREALTIME $f" >>%s
exit $rc
"""


def wrapper(tmp):
    """The wrapper to put in front of CC, and the file it appends to."""
    log = os.path.join(tmp, "timeline-clients")
    path = os.path.join(tmp, "timeline-cc")
    with open(path, "w") as f:
        f.write(WRAPPER % log)
    os.chmod(path, 0o755)
    return path, log


def _records(path, offset):
    out = {}
    if os.path.exists(path):
        with open(path) as text:
            text.seek(offset)
            for line in text:
                head, _, name = line.rstrip("\n").partition(" file=")
                w = dict(x.split("=", 1) for x in head.split() if "=" in x)
                out[name] = w
    return out


def report(label, t0, log, offset, stderr, jobs=None, offset_jobs=0, slots=1, show=8):
    """Lines that say where LABEL's time went: T0 is make's start
    (time.time()), LOG the wrapper's file read past OFFSET, STDERR make's,
    JOBS our client's records read past OFFSET_JOBS (None for 3.4's)."""
    rows = {}
    with open(log) as text:
        text.seek(offset)
        for line in text:
            start, end, name = line.split(None, 2)
            rows[os.path.basename(name.strip())] = {"start": float(start) - t0,
                                                     "end": float(end) - t0}
    for line in stderr.splitlines():
        if line.startswith("simhost-hold "):
            _, h0, h1, name = line.split(None, 3)
            r = rows.get(os.path.basename(name.strip()))
            if r is not None:
                r["h0"], r["h1"] = float(h0) - t0, float(h1) - t0
    recs = _records(jobs, offset_jobs) if jobs else {}
    held = [r for r in rows.values() if "h0" in r]
    if not held:
        return ["%s: no simhost-hold lines (only with --simulate)" % label]
    wall = max(r["end"] for r in rows.values())
    busy = sum(r["h1"] - r["h0"] for r in held)
    pre = sorted(r["h0"] - r["start"] for r in held)
    post = sorted(r["end"] - r["h1"] for r in held)
    longest = max(rows, key=lambda n: rows[n].get("h1", 0) - rows[n].get("h0", 0))
    out = ["%s: %d jobs, last client ends at %.1f s; hosts held jobs %.1f slot-s (%.0f %% of "
           "%d slots over the build); before the hold (slot, cpp, connect, send): median %.2f s, "
           "max %.2f s; after it (reply, write): median %.2f s, max %.2f s; longest hold %s "
           "%.1f s from %.1f s" % (
               label, len(rows), wall, busy, 100 * busy / (slots * wall), slots,
               pre[len(pre) // 2], pre[-1], post[len(post) // 2], post[-1], longest,
               rows[longest]["h1"] - rows[longest]["h0"], rows[longest]["h0"])]
    if recs:
        raced = sum(1 for w in recs.values() if w.get("why") == "raced")
        local = sum(1 for w in recs.values() if w.get("ran") == "local")
        out.append("  records: %d ran here (%d raced and won)" % (local, raced))
    out.append("  | file | start | hold from | hold s | hold to | end | blocked ms | connect "
               "| cpp | send | compile | receive | ran |")
    last = sorted(rows, key=lambda n: -rows[n]["end"])[:show]
    if longest not in last:
        last.append(longest)
    for name in last:
        r, w = rows[name], recs.get(name, {})
        phases = [int(w.get(p, 0)) for p in ("connect", "cpp", "send", "compile", "receive")]
        blocked = int(w["total"]) - sum(phases) if w else None
        out.append("  | %s | %.2f | %s | %s | %s | %.2f | %s | %s | %s |" % (
            name, r["start"], "%.2f" % r["h0"] if "h0" in r else "-",
            "%.2f" % (r["h1"] - r["h0"]) if "h0" in r else "-",
            "%.2f" % r["h1"] if "h1" in r else "-", r["end"],
            "-" if blocked is None else blocked,
            " | ".join(str(p) for p in phases) if w else "- | - | - | - | -",
            (w.get("ran", "-") + ("/" + w["why"] if w.get("why", "-") != "-" else "")
             + (" " + w.get("host", "").split("_")[1] if "_" in w.get("host", "") else ""))
            if w else "-"))
    return out
