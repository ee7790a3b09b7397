"""Where a job's bytes go: split one connection's byte streams (as a
relay saw them) into the protocol's items (spec §1, docs/extension.md)
and add them up by item, so a benchmark can say which part of the
exchange costs what (bench/extension.py --breakdown).

Every item is a 12-byte header (4 token bytes, 8 hex digits); a token
in BODY is followed by as many body bytes as its parameter says. `XSTA`
counts with its items. Anything that does not parse (a cut stream)
counts as "?".
"""

BODY = {b"ARGV", b"DOTI", b"CDIR", b"NAME", b"FILE", b"LINK", b"SERR", b"SOUT", b"DOTO",
        b"DOTD", b"XCID", b"XSTA", b"XCMM", b"XMAN", b"XWNT", b"XCIR", b"XREF", b"XREQ",
        b"XBAS", b"XBAD"}

# Items reported together (a job's argv is many ARGVs).
GROUPS = {
    b"ARGC": "request head (DIST ARGC ARGV CDIR)", b"ARGV": "request head (DIST ARGC ARGV CDIR)",
    b"CDIR": "request head (DIST ARGC ARGV CDIR)",
    b"DOTI": "preprocessed body (DOTI)",
    b"NFIL": "pump files (NFIL NAME FILE LINK XMAN XWNT)",
    b"NAME": "pump files (NFIL NAME FILE LINK XMAN XWNT)",
    b"FILE": "pump files (NFIL NAME FILE LINK XMAN XWNT)",
    b"LINK": "pump files (NFIL NAME FILE LINK XMAN XWNT)",
    b"XMAN": "pump files (NFIL NAME FILE LINK XMAN XWNT)",
    b"XWNT": "pump files (NFIL NAME FILE LINK XMAN XWNT)",
    b"DONE": "reply head (DONE STAT)", b"STAT": "reply head (DONE STAT)",
    b"SERR": "stderr, stdout (SERR SOUT)", b"SOUT": "stderr, stdout (SERR SOUT)",
    b"DOTO": "object (DOTO)", b"DOTD": "dependencies (DOTD)",
    b"XTND": "offer (XTND XCAP XSTA)",
    b"XHBT": "choice (XCAP XHBT XCIW)", b"XCIW": "choice (XCAP XHBT XCIW)",
    b"XCID": "compiler identity (XCID XCIR XCIQ)", b"XCIR": "compiler identity (XCID XCIR XCIQ)",
    b"XCIQ": "compiler identity (XCID XCIR XCIQ)",
    b"XBAS": "body base (XBAS XBAQ XBAD)", b"XBAQ": "body base (XBAS XBAQ XBAD)",
    b"XBAD": "body base (XBAS XBAQ XBAD)",
    b"XBEA": "heartbeats (XBEA)", b"XCMM": "compiler mismatch (XCMM)",
    b"XOUT": "side outputs (XOUT NAME FILE)",
}


def items(stream):
    """(token, bytes) for each item of `stream`, in order."""
    pos = 0
    while pos < len(stream):
        head = stream[pos:pos + 12]
        try:
            param = int(head[4:12], 16) if len(head) == 12 else None
        except ValueError:
            param = None
        if param is None:
            yield b"?", len(stream) - pos
            return
        token = head[:4]
        n = 12 + (param if token in BODY else 0)
        if token == b"XOUT":
            # XOUT <n> is followed by n (NAME, FILE) pairs: counted with it.
            end = pos + 12
            for _ in range(param):
                for _ in range(2):
                    end += 12 + int(stream[end + 4:end + 12], 16)
            n = end - pos
        yield token, min(n, len(stream) - pos)
        pos += n


def breakdown(up, down):
    """Bytes by group for one connection (client to server `up`, back
    `down`): the first DIST is the extension's hello when it says so
    (`DIST7874...`), the server's first three items its offer."""
    out = {}

    def add(group, n):
        out[group] = out.get(group, 0) + n

    hello = up.startswith(b"DIST7874")
    for token, n in items(up):
        if token == b"DIST" and hello:
            add("hello (DIST 7874...)", n)
            hello = False
        elif token == b"DIST":
            add("request head (DIST ARGC ARGV CDIR)", n)
        elif token == b"XCAP":
            add("choice (XCAP XHBT XCIW)", n)
        else:
            add(GROUPS.get(token, token.decode("latin-1")), n)
    offer = 3 if down.startswith(b"XTND") else 0  # XTND, XCAP, XSTA
    for i, (token, n) in enumerate(items(down)):
        if i < offer:
            add("offer (XTND XCAP XSTA)", n)
        elif token == b"XSTA":
            add("status (XSTA)", n)
        else:
            add(GROUPS.get(token, token.decode("latin-1")), n)
    return out
