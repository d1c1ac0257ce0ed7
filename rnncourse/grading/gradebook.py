"""The gradebook: what the grader writes, so that no submission is lost or merged away.

* ``grades.csv``: one row per submitted notebook (never one per student: two notebooks of the same
  student for the same exercise are two rows, both flagged), with the seed, the sandbox mode, the
  course version and a hash of the exercise specs, so a re-grade is reproducible and auditable.
  Text cells that a spreadsheet would run as a formula (starting with ``= + - @``, a tab or a
  carriage return) get a leading ``'``.
* ``feedback/<name>.txt``: one file per student; the name keeps the student's name recognisable
  (accents folded to ASCII) and, when that is not the exact name, adds a short hash of it, so
  ``zoë`` and ``zoé`` never share a file.
* ``exports/gradescope/<name>.json``: Gradescope's autograder ``results.json`` for that student.
* ``exports/lms.csv``: one row per student, one column per exercise (Canvas / Moodle import). An
  exercise with two notebooks is left empty and named in the ``needs review`` column.
* ``shard-I-of-N.jsonl``: the rows of one shard; ``merge`` turns shards into the files above.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import inspect
import json
import re
import unicodedata
from pathlib import Path

from rnncourse.messages import _, using

__all__ = ["row_of", "write_all", "merge", "feedback_name", "neutralise", "spec_hash", "course_version"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A CSV cell a spreadsheet shows as text: ``'`` before a leading ``= + - @`` (CWE-1236)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def feedback_name(student):
    """A file name for ``student``'s feedback: readable, and different for different names."""
    # accents fold to ASCII (zoë -> zoe); letters with no ASCII form (王小明) stay as they are
    folded = "".join(
        unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode() or (ch if ch.isalnum() else "_")
        for ch in unicodedata.normalize("NFC", student)
    )
    safe = re.sub(r"[^\w.-]+", "_", folded).strip("._")[:80] or "student"
    if safe == student:
        return safe
    return f"{safe}-{hashlib.sha256(student.encode('utf-8')).hexdigest()[:8]}"


def course_version():
    import rnncourse

    return getattr(rnncourse, "__version__", "unknown")


def spec_hash():
    """Hash of the code that defines the graded tasks (inputs, probes, tolerances, references)."""
    import rnncourse.grading.exercises as exercises
    from rnncourse.grading import reference, verdict

    mods = [verdict, reference, exercises] + [
        importlib.import_module(f"rnncourse.grading.exercises.{ex}") for ex in sorted(exercises.EXERCISES)
    ]
    h = hashlib.sha256()
    for mod in mods:
        h.update(inspect.getsource(mod).encode())
    return h.hexdigest()[:16]


def row_of(r, sandbox_mode):
    """A JSON-able record of one graded notebook (``grader.SubmissionResult``); its ``feedback``
    is in the student's language (``r.lang``)."""
    from rnncourse.grading.checks import format_result

    lang = getattr(r, "lang", "en") or "en"
    with using(lang):
        feedback = {t: format_result(tr) for t, tr in r.tasks.items()}
    return {
        "student": r.student,
        "exercise": r.exercise,
        "path": r.path,
        "file": Path(r.path).name,
        "seed": r.seed,
        "sandbox": sandbox_mode,
        "course_version": course_version(),
        "spec_hash": spec_hash(),
        "tasks": {t: tr.points for t, tr in r.tasks.items()},
        "max": {t: tr.max_points for t, tr in r.tasks.items()},
        "flags": list(r.flags) + [f"{t}: {f}" for t, tr in r.tasks.items() for f in tr.flags],
        "issues": list(r.issues),
        "ungradable": getattr(r, "ungradable", ""),
        "feedback": feedback,
        "lang": lang,
        "passed": {t: bool(tr.points == tr.max_points) for t, tr in r.tasks.items()},
    }


def _mark_duplicates(rows):
    by = {}
    for r in rows:
        by.setdefault((r["student"], r["exercise"]), []).append(r)
    for (student, ex), group in by.items():
        if len(group) > 1 and ex != "?":
            files = ", ".join(sorted(g["path"] for g in group))
            for g in group:
                note = f"DUPLICATE: {len(group)} notebooks for {student} / {ex} ({files}): each is graded, none merged"
                if note not in g["flags"]:
                    g["flags"].append(note)
                g["duplicate"] = True
    return rows


def write_grades_csv(path, rows, task_order):
    tasks = [t for t in task_order if any(t in r["tasks"] for r in rows)]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["student", "exercise", "file"]
            + tasks
            + ["total", "max", "flags", "seed", "sandbox", "course_version", "spec_hash", "path"]
        )
        for r in sorted(rows, key=lambda r: (r["student"], r["exercise"], r["path"])):
            flags = list(r["flags"]) + ([f"not graded: {r['ungradable']}"] if r.get("ungradable") else [])
            cells = (
                [r["student"], r["exercise"], r["file"]]
                + [f"{r['tasks'][t]:g}" if t in r["tasks"] else "" for t in tasks]
                + [
                    f"{sum(r['tasks'].values()):g}",
                    f"{sum(r['max'].values()):g}",
                    " | ".join(flags),
                    str(r["seed"]),
                    r.get("sandbox", ""),
                    r.get("course_version", ""),
                    r.get("spec_hash", ""),
                    r["path"],
                ]
            )
            w.writerow([neutralise(c) for c in cells])


def write_feedback(folder, rows):
    """One text file per student; returns ``{student: file name}``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = {}
    for student in sorted({r["student"] for r in rows}):
        name = feedback_name(student)
        names[student] = name
        lines = []
        for r in sorted(
            (r for r in rows if r["student"] == student), key=lambda r: (r["exercise"], r["path"])
        ):
            total, mx = sum(r["tasks"].values()), sum(r["max"].values())
            with using(r.get("lang") or "en"):  # each notebook in the language of its edition
                head = _("# {exercise} ({file}): {points}/{max_points} points").format(
                    exercise=r["exercise"], file=r["file"], points=f"{total:g}", max_points=mx
                )
                lines += [head, ""]
                lines += [_("note: {note}").format(note=i) for i in r["issues"]]
                lines += [_("FLAG: {flag}").format(flag=f) for f in r["flags"]]
            if r["issues"] or r["flags"]:
                lines.append("")
            for t in r["tasks"]:
                lines += [r["feedback"].get(t, ""), ""]
        (folder / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return names


def write_gradescope(folder, rows, names):
    """Gradescope autograder ``results.json`` per student (per-test score, max_score, status,
    output, visibility)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for student, name in names.items():
        mine = [r for r in rows if r["student"] == student]
        tests, notes = [], []
        for r in sorted(mine, key=lambda r: (r["exercise"], r["path"])):
            for t, pts in r["tasks"].items():
                tests.append(
                    {
                        "name": f"{t} ({r['file']})" if r.get("duplicate") else t,
                        "score": pts,
                        "max_score": r["max"][t],
                        "status": "passed" if r["passed"].get(t) else "failed",
                        "output": r["feedback"].get(t, ""),
                        "visibility": "visible",
                    }
                )
            notes += r["issues"] + r["flags"]
        # an exercise counts once: two notebooks for it (flagged DUPLICATE) give its best total,
        # not their sum
        best = {}
        for r in mine:
            best[r["exercise"]] = max(best.get(r["exercise"], 0), sum(r["tasks"].values()))
        notes = list(dict.fromkeys(notes))
        result = {
            "score": sum(best.values()),
            "tests": tests,
            "output": "\n".join(notes),
            "visibility": "visible",
            "stdout_visibility": "hidden",
        }
        (folder / f"{name}.json").write_text(
            json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8"
        )


def write_lms_csv(path, rows):
    """One row per student, one points column per exercise (import into Canvas or Moodle)."""
    exercises = sorted({r["exercise"] for r in rows if r["exercise"] != "?"})
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["Student", "ID", "SIS User ID", "Section"]
            + [f"{ex} (rnncourse)" for ex in exercises]
            + ["needs review"]
        )
        for student in sorted({r["student"] for r in rows}):
            mine = [r for r in rows if r["student"] == student]
            cells, review = [], []
            for ex in exercises:
                got = [r for r in mine if r["exercise"] == ex]
                if len(got) == 1 and not got[0].get("ungradable"):
                    cells.append(f"{sum(got[0]['tasks'].values()):g}")
                else:
                    cells.append("")
                    if len(got) > 1:
                        review.append(f"{ex}: {len(got)} notebooks")
            review += [f"{r['exercise']}: could not be graded" for r in mine if r.get("ungradable")]
            review += [f"{r['exercise']}: flagged" for r in mine if r["flags"] and not r.get("duplicate")]
            w.writerow([neutralise(c) for c in [student, "", student, ""] + cells + ["; ".join(review)]])


ROWS_FILE = "rows.jsonl"


def _clear_earlier(out):
    """Remove the feedback and export files an earlier run wrote into ``out``: grading again into
    the same folder replaced grades.csv but kept the earlier run's files of students who are not
    in this run, and an instructor uploading ``exports/gradescope/`` uploaded old results. Only
    those generated files go; nothing else in ``out`` is touched."""
    for folder, pattern in ((out / "feedback", "*.txt"), (out / "exports" / "gradescope", "*.json")):
        if folder.is_dir() and not folder.is_symlink():
            for f in folder.glob(pattern):
                if f.is_file() or f.is_symlink():
                    f.unlink()


def write_all(out, rows, task_order):
    """Every file of the gradebook from ``rows`` (see the module doc), plus ``rows.jsonl`` (the rows
    themselves, which ``merge`` and ``rnncourse grade --resume`` read back)."""
    out = Path(out)
    write_shard(out / ROWS_FILE, rows)
    rows = _mark_duplicates(rows)
    _clear_earlier(out)
    write_grades_csv(out / "grades.csv", rows, task_order)
    names = write_feedback(out / "feedback", rows)
    write_gradescope(out / "exports" / "gradescope", rows, names)
    write_lms_csv(out / "exports" / "lms.csv", rows)
    return rows


def write_shard(path, rows):
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_rows(text):
    """The rows of a ``write_shard`` file's ``text`` (a shard, or a whole run's ``rows.jsonl``)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def merge(shard_dirs, out_dir, task_order, log=None):
    """Combine ``shard-*-of-N.jsonl`` files and whole runs' ``rows.jsonl`` (from any folders: an
    interrupted run and the run that graded the rest, say) into one gradebook in ``out_dir``.
    A shard given twice with the same content (the same folder named twice, or a copy) is merged
    once, and ``log`` is told; its notebooks are not flagged as duplicates. A folder with nothing
    to merge is an error (``FileNotFoundError``), never an empty gradebook.
    Returns ``(rows, missing shards as "i/n")``."""
    import hashlib

    rows, seen, merged = [], {}, {}
    for d in map(Path, shard_dirs):
        if d.is_dir():
            files = sorted(d.glob("shard-*-of-*.jsonl")) + (
                [d / ROWS_FILE] if (d / ROWS_FILE).is_file() else []
            )
            if not files:
                raise FileNotFoundError(
                    f"nothing to merge in {d}: it has no shard-*-of-*.jsonl and no {ROWS_FILE}"
                )
        elif d.is_file():
            files = [d]
        else:
            raise FileNotFoundError(f"no such shard file or folder: {d}")
        for f in files:
            text = f.read_text(encoding="utf-8")
            m = re.match(r"shard-(\d+)-of-(\d+)\.jsonl$", f.name)
            if m:
                seen.setdefault(int(m.group(2)), set()).add(int(m.group(1)))
            key = (f.name, hashlib.sha256(text.encode("utf-8")).hexdigest())
            if key in merged:
                if log:
                    what = f"shard {m.group(1)}/{m.group(2)}" if m else f"the run {f.parent}"
                    log(f"{what} merged twice ({merged[key]} and {f}): the second copy was ignored")
                continue
            merged[key] = f
            rows += read_rows(text)
    missing = [f"{i}/{n}" for n, got in seen.items() for i in range(1, n + 1) if i not in got]
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    write_all(out_dir, rows, task_order)
    return rows, missing
