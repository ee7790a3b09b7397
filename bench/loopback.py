"""Our distccd on 127.0.0.1 for the one-host benchmarks (extension.py,
pipeline.py, side_outputs.py): a scratch directory the daemon's user can
read, a masquerade directory, a sticky temp dir, a free port, and a wait
until it listens; `distccd` also stops it and removes the scratch
directory, however the benchmark ends."""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time


def start_distccd(bin_dir, prefix, compilers):
    """Start `bin_dir`/distccd; returns (process, port, scratch dir).
    `compilers`: masquerade names, each linked to the /usr/bin program
    named by its last dash-separated word (x86_64-linux-gnu-g++ -> g++)."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    os.chmod(tmp, 0o755)  # the daemon drops to its own user
    masq = os.path.join(tmp, "masq")
    os.makedirs(masq)
    for cc in compilers:
        os.symlink("/usr/bin/" + cc.split("-")[-1], os.path.join(masq, cc))
    dtmp = os.path.join(tmp, "dtmp")
    os.makedirs(dtmp)
    os.chmod(dtmp, 0o1777)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    d = subprocess.Popen([os.path.join(bin_dir, "distccd"), "--daemon", "--no-detach", "--port", str(port),
                          "--listen", "127.0.0.1", "--allow", "127.0.0.1", "--jobs", "2",
                          "--masquerade-dir", masq, "--log-file", os.path.join(tmp, "distccd.log")],
                         env={"PATH": "/usr/bin:/bin", "TMPDIR": dtmp, "HOME": tmp})
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return d, port, tmp
        except OSError:
            time.sleep(0.1)
    d.kill()
    d.wait()
    shutil.rmtree(tmp, ignore_errors=True)
    raise SystemExit("distccd did not listen on 127.0.0.1:%d within 20 s" % port)


@contextlib.contextmanager
def distccd(bin_dir, prefix, compilers):
    """`start_distccd` for a `with` block, which gets (process, port,
    scratch dir); leaving it stops the daemon and removes the directory."""
    d, port, tmp = start_distccd(bin_dir, prefix, compilers)
    try:
        yield d, port, tmp
    finally:
        d.terminate()
        d.wait()
        shutil.rmtree(tmp, ignore_errors=True)
