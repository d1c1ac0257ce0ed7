"""Rebuild the two real-text corpora shipped in ``rnncourse/data`` from their Debian packages.

The course downloads nothing at run time. These texts were taken once, by this script, from two
packages of Debian 13 ("trixie") and committed; the script is here so that anyone can check that
the shipped files are exactly the packaged texts, cleaned as described below.

``devils_dictionary.txt``
    Ambrose Bierce, *The Devil's Dictionary* (1911). Public domain (copyright expired; the
    package's ``copyright`` file says "A Public Domain Text, Copyright Expired"). Source: Debian
    package ``dict-devil`` 1.0-13.1, file ``/usr/share/dictd/devil.dict.dz`` (the Internet Wiretap
    1st Online Edition, 1993). Cleaning: the dictd header records (``00-database-...``) and the
    trailing alphabet line are removed; trailing spaces are stripped; everything else is kept.

``tang300.txt``
    *Three Hundred Tang Poems* (唐诗三百首, compiled about 1763; the poems are from 618-907).
    The poems are in the public domain. Source: Debian package ``fortunes-zh`` (file
    ``/usr/share/games/fortunes/tang300``; the package itself is GPL-3.0+, which covers its
    selection and layout). Cleaning: terminal colour codes removed, the ``%`` separators become one
    empty line, trailing spaces are stripped.

Run it with the two ``.deb`` files (``apt-get download dict-devil fortunes-zh``)::

    python -m rnncourse.data.make_real_corpora dict-devil_*.deb fortunes-zh_*.deb

It writes both files next to this script and prints their SHA-256, which must equal
``SHA256`` below (the test suite checks the shipped files against it).
"""

from __future__ import annotations

import gzip
import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

SHA256 = {
    "devils_dictionary.txt": "be38cce4ff8d4966a89ecfbd15c2a24faa138005b63c7f92e9627c558e99ff6c",
    "tang300.txt": "883e297303bb86e3d4986018bea927ce293f2b47846b84b66e58fa9c0a6c839f",
}


def _extract(deb: Path, member: str, workdir: Path) -> bytes:
    subprocess.run(["dpkg-deb", "-x", str(deb), str(workdir)], check=True)
    return (workdir / member.lstrip("/")).read_bytes()


def clean_devil(raw: str) -> str:
    lines = raw.splitlines()
    # dictd keeps its own records first: "00-database-..." headers, each followed by its value.
    start = next(i for i, line in enumerate(lines) if "The Internet Wiretap 1st Online Edition" in line)
    body = [line.rstrip() for line in lines[start:]]
    while body and (not body[-1].strip() or body[-1].strip() == "abcdefghijklmnopqrstuvwxyz"):
        body.pop()
    return "\n".join(body).strip("\n") + "\n"


def clean_tang(raw: str) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", raw)
    poems = [p.strip("\n") for p in text.split("\n%\n")]
    poems = ["\n".join(line.rstrip() for line in p.splitlines()) for p in poems if p.strip(" \n%")]
    return "\n\n".join(poems) + "\n"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    devil_deb, tang_deb = (Path(a).resolve() for a in argv)
    with tempfile.TemporaryDirectory() as tmp:
        raw = gzip.decompress(_extract(devil_deb, "/usr/share/dictd/devil.dict.dz", Path(tmp) / "d"))
        (HERE / "devils_dictionary.txt").write_text(clean_devil(raw.decode("utf-8")), encoding="utf-8")
        raw = _extract(tang_deb, "/usr/share/games/fortunes/tang300", Path(tmp) / "t")
        (HERE / "tang300.txt").write_text(clean_tang(raw.decode("utf-8")), encoding="utf-8")
    for name in SHA256:
        print(name, sha256(HERE / name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
