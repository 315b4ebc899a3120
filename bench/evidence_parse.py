"""Benchmark: parse and store a 100,000-case result file of each evidence format.

    .venv/bin/python bench/evidence_parse.py [--cases 100000] [--database sqlite|URL] [--repeat 3]

    .venv/bin/python bench/evidence_parse.py --size-mb 20      # the largest files one may upload

A child process generates each file from the REAL tool outputs (full-size rows, see the
generators) and other children, one per measurement (so that peak memory is that format's
alone), time ``attach_evidence`` (parse + gates + store) + commit of the open file (as the upload
routes pass it; ``--bytes``: its bytes) into a fresh migrated SQLite
database (or the database URL given), then ``parse`` alone. Each file is measured ``--repeat``
times (default 3: the machine is shared) and the best is printed: file size, parse time,
parse+store time (wall clock, and the child's CPU time, which other load disturbs less) and the child's peak resident memory (whole process: interpreter, SQLAlchemy,
the file, the parsed objects). Target: under 3 s and under 300 MB on 2 cores.
Not part of the test run; figures are recorded in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "evidence"))

FORMATS = ["promptfoo", "promptfoo-jsonl", "inspect-json", "inspect-eval", "lm-eval-samples",
           "lm-eval-results", "junit", "csv"]
SAMPLES = ROOT / "tests" / "evidence" / "fixtures"  # genuine tool outputs (docs/evidence.md)


def _real(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def _cycle(rows: list, n: int):
    """n copies of the real rows, round robin, each made distinct (a deep copy per case)."""
    for i in range(n):
        yield i, json.loads(json.dumps(rows[i % len(rows)]))


# ------------------------------------------------------------------------------ generators
# Every generator copies the REAL cases the tools wrote (tests/evidence/fixtures, genuine
# outputs of each tool) with all their keys, and varies ids and texts, so a row is as large
# as the tool makes it (promptfoo ~2 KB, an inspect sample with its events ~8 KB, an lm-eval
# sample line ~1 KB, a pytest testcase ~0.5 KB). Statuses and tags keep the real mix.
def gen_promptfoo_rows(n: int):
    doc = json.loads(_real("promptfoo-support-2providers.json"))
    for i, row in _cycle(doc["results"]["results"], n):
        row["id"] = f"{uuid.UUID(int=i)}"
        row["testIdx"] = i // 2
        row["testCase"]["description"] = f"{row['testCase'].get('description', 'case')} #{i}"
        yield row


def gen_promptfoo(n: int) -> bytes:
    doc = json.loads(_real("promptfoo-support-2providers.json"))
    doc["results"]["results"] = []
    head, tail = json.dumps(doc, separators=(",", ":")).split('"results":[]', 1)
    out = io.BytesIO()
    out.write((head + '"results":[').encode())
    for i, row in enumerate(gen_promptfoo_rows(n)):
        out.write((b"," if i else b"") + json.dumps(row, separators=(",", ":")).encode())
    out.write(("]" + tail).encode())
    return out.getvalue()


def gen_promptfoo_jsonl(n: int) -> bytes:
    return "\n".join(json.dumps(r, separators=(",", ":")) for r in gen_promptfoo_rows(n)).encode() + b"\n"


def gen_inspect_samples(n: int):
    log = json.loads(_real("inspect-intent-router.json"))
    for i, sample in _cycle(log["samples"], n):
        sample["id"] = f"{sample['id']}-{i}"
        sample["uuid"] = f"{uuid.UUID(int=i).hex[:22]}"
        yield sample


def gen_inspect_json(n: int) -> bytes:
    log = json.loads(_real("inspect-intent-router.json"))
    log["samples"] = []
    log["results"]["total_samples"] = log["results"]["completed_samples"] = n
    head, tail = json.dumps(log, separators=(",", ":")).split('"samples":[]', 1)
    out = io.BytesIO()
    out.write((head + '"samples":[').encode())
    for i, sample in enumerate(gen_inspect_samples(n)):
        out.write((b"," if i else b"") + json.dumps(sample, separators=(",", ":")).encode())
    out.write(("]" + tail).encode())
    return out.getvalue()


def gen_inspect_eval(n: int) -> bytes:
    """header.json, summaries.json and one samples/<id>_epoch_<n>.json member per sample-epoch,
    every member Zstandard-compressed (method 93) as current inspect writes them."""
    from conftest import make_zip  # tests/evidence/conftest.py: writes zstd (method 93) members

    real = _real("inspect-intent-router.eval")
    from forum.evidence.parsers.archive import MemberReader
    from forum.evidence.parsers.source import Limits
    infos = {i.filename: i for i in zipfile.ZipFile(io.BytesIO(real)).infolist()}
    reader = MemberReader(real, Limits())
    header = json.loads(reader.read(infos["header.json"]))
    header["results"]["total_samples"] = header["results"]["completed_samples"] = n
    summaries = json.loads(reader.read(infos["summaries.json"]))
    members = {"header.json": json.dumps(header).encode()}
    listed = []
    for i, sample in enumerate(gen_inspect_samples(n)):
        summary = json.loads(json.dumps(summaries[i % len(summaries)]))
        summary["id"] = sample["id"]
        listed.append(summary)
        members[f"samples/{sample['id']}_epoch_{sample['epoch']}.json"] = json.dumps(
            sample, separators=(",", ":")).encode()
    members["summaries.json"] = json.dumps(listed, separators=(",", ":")).encode()
    if len(members) <= 65535:
        return make_zip(members)
    # More members than a plain zip directory holds: zipfile writes zip64 (with deflate, as it
    # cannot write zstd; the forum reads both, and only header.json and summaries.json at that).
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def gen_lm_eval_samples(n: int) -> bytes:
    rows = [json.loads(line) for name in ("lm-eval-support-dummy.samples.support_intent_mc.jsonl",
                                          "lm-eval-support-dummy.samples.slang_abbrev_em.jsonl")
            for line in _real(name).splitlines() if line.strip()]
    out = io.BytesIO()
    for i, row in _cycle(rows, n):
        row["doc_id"] = i
        row["doc"]["id"] = f"{row['doc']['id']}-{i}"
        out.write(json.dumps(row, ensure_ascii=False).encode() + b"\n")
    return out.getvalue()


def gen_lm_eval_results(n: int) -> bytes:
    """Aggregates only: the real file with its sample counts scaled to n (it stays ~5 KB)."""
    doc = json.loads(_real("lm-eval-support-dummy.results.json"))
    tasks = list(doc["n-samples"])
    for index, task in enumerate(tasks):
        share = n // len(tasks) + (1 if index < n % len(tasks) else 0)
        doc["n-samples"][task] = {"original": share, "effective": share}
    return json.dumps(doc, indent=2).encode()


def gen_junit(n: int) -> bytes:
    """pytest's own xunit1 testcases (with properties, failure texts, skips, the setup error),
    copied and renamed."""
    from defusedxml import ElementTree

    root = ElementTree.fromstring(_real("pytest-support-llm.xunit1.xml"))
    suite = root.find("testsuite")
    cases = [ET.tostring(case, encoding="unicode") for case in suite.findall("testcase")]
    for case in suite.findall("testcase"):
        suite.remove(case)
    suite.set("tests", str(n))
    head, tail = ET.tostring(root, encoding="unicode").rsplit("</testsuite>", 1)
    out = io.StringIO()
    out.write('<?xml version="1.0" encoding="utf-8"?>' + head)
    for i in range(n):
        case = cases[i % len(cases)]
        out.write(case.replace('name="', f'name="c{i}-', 1))
    out.write("</testsuite>" + tail)
    return out.getvalue().encode()


def gen_csv(n: int) -> bytes:
    lines = _real("handwritten-support-bot.csv").decode().splitlines()
    out = [lines[0]]
    rows = lines[1:]
    for i in range(n):
        row = rows[i % len(rows)]
        out.append(f"{row.split(',', 1)[0]}-{i},{row.split(',', 1)[1]}")
    return ("\n".join(out) + "\n").encode()


GENERATORS = {
    "promptfoo": gen_promptfoo, "promptfoo-jsonl": gen_promptfoo_jsonl, "inspect-json": gen_inspect_json,
    "inspect-eval": gen_inspect_eval, "lm-eval-samples": gen_lm_eval_samples,
    "lm-eval-results": gen_lm_eval_results, "junit": gen_junit, "csv": gen_csv,
}


# ------------------------------------------------------------------------------------- child
def run_one(fmt: str, path: Path, database: str, in_memory: bool = False) -> dict:
    from forum.app import create_app
    from forum.auth import service as accounts
    from forum.core import db
    from forum.evidence import service
    from forum.evidence.parsers import Limits, parse
    from forum.evidence.parsers.stream import backend_name
    from forum.items import service as items
    from forum.migrate import upgrade

    # As the upload routes hand it on: a file (Werkzeug spools uploads over 500 KB to disk, the
    # API spools its raw body), read a piece at a time; --bytes: the whole file in memory, as
    # seed/scale/tests pass it.
    size = path.stat().st_size

    def data():
        return path.read_bytes() if in_memory else path.open("rb")

    # Full-size files of 100,000 cases are far above the 20 MB upload limit: the limits are
    # raised to the file here so that the parser and the store are what is measured.
    default = Limits()
    limits = Limits(max_bytes=max(default.max_bytes, size),
                    max_unpacked_bytes=max(default.max_unpacked_bytes, 4 * size))
    with tempfile.TemporaryDirectory() as tmp:
        url = database if database != "sqlite" else f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": tmp})
        with app.app_context(), db.session_scope(app) as session:
            accounts.create_function(session, None, "risk", "Risk")
            user = accounts.create_user(session, None, accounts.NewUser(
                email="bench@example.com", display_name="Bench", role="staff", password="x" * 12, function="risk"))
            item = items.create_item(session, user, items.ItemData(title="Bench", category="model_update",
                                                                   function="risk", model_version="1.0"))
        started, cpu_started = time.perf_counter(), time.process_time()
        with app.app_context(), db.session_scope(app) as session:
            user = accounts.get_user_by_email(session, "bench@example.com")
            item = session.get(type(item), item.id)
            with contextlib.closing(data()) if not in_memory else contextlib.nullcontext(data()) as file:
                run = service.attach_evidence(session, user, item, f"bench.{fmt}", file, limits)
            del file  # with --bytes, not alive during the parse-only pass below
            total = run.total
        stored_at, cpu_stored_at = time.perf_counter(), time.process_time()
        db.get_engine(app).dispose()
    parse_started = time.perf_counter()
    with contextlib.closing(data()) if not in_memory else contextlib.nullcontext(data()) as file:
        parsed = parse(file, f"bench.{fmt}", limits)
    parsed_at = time.perf_counter()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"format": fmt, "bytes": size, "rows": parsed.total, "stored_rows": total,
            "parse_s": parsed_at - parse_started, "parse_store_s": stored_at - started, "peak_mb": peak_kb / 1024,
            "cpu_s": cpu_stored_at - cpu_started,
            "backend": backend_name()}


def cases_for(fmt: str, size_mb: float) -> int:
    """How many full-size cases of ``fmt`` fit in ``size_mb`` MB (from a 2,000-case sample)."""
    if fmt == "lm-eval-results":
        return 100_000  # aggregates only: the file does not grow with the cases
    per_case = len(GENERATORS[fmt](2000)) / 2000
    return int(size_mb * 1024 * 1024 / per_case * 0.98)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--size-mb", type=float, help="instead of --cases: as many cases as fit in this many MB")
    parser.add_argument("--repeat", type=int, default=3, help="measure each file this many times, print the best")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--bytes", action="store_true", help="pass the file's bytes, not the open file")
    parser.add_argument("--one", choices=FORMATS, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--generate", choices=FORMATS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        cases = cases_for(args.generate, args.size_mb) if args.size_mb else args.cases
        args.file.write_bytes(GENERATORS[args.generate](cases))
        return
    if args.one:
        print(json.dumps(run_one(args.one, args.file, args.database, args.bytes)))
        return
    print(f"best of {args.repeat} runs per format; {'bytes in memory' if args.bytes else 'from the open file'}; "
          + (f"as many full-size cases as fit in {args.size_mb} MB" if args.size_mb else f"{args.cases} cases"))
    print(f"{'format':17s} {'file':>9s} {'rows':>8s} {'parse':>8s} {'parse+store':>12s} {'(CPU)':>8s} {'peak RSS':>9s}")
    folder = Path(tempfile.mkdtemp(prefix="evidence-bench-"))
    for fmt in args.formats.split(","):
        path = folder / f"bench.{fmt}"
        # Generated in a child of its own: a large parent would inflate the measuring child's peak
        # RSS (Linux keeps the high-water mark across fork + exec).
        generate = [sys.executable, __file__, "--generate", fmt, "--file", str(path), "--cases", str(args.cases)]
        subprocess.run(generate + (["--size-mb", str(args.size_mb)] if args.size_mb else []), check=True)
        runs, size = [], path.stat().st_size
        for _ in range(args.repeat):
            out = subprocess.run([sys.executable, __file__, "--one", fmt, "--file", str(path),
                                  "--database", args.database] + (["--bytes"] if args.bytes else []),
                                 capture_output=True, text=True)
            if out.returncode:
                print(f"{fmt:17s} {size / 1e6:7.1f}MB  FAILED: {(out.stderr.strip().splitlines() or ['?'])[-1]}",
                      flush=True)
                break
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        path.unlink()
        if not runs:
            continue
        r = min(runs, key=lambda x: x["parse_store_s"])
        r["peak_mb"] = min(x["peak_mb"] for x in runs)
        r["parse_s"] = min(x["parse_s"] for x in runs)
        r["cpu_s"] = min(x["cpu_s"] for x in runs)
        ok = "ok" if r["parse_store_s"] < 3 and r["peak_mb"] < 300 else "OVER TARGET"
        print(f"{r['format']:17s} {r['bytes'] / 1e6:7.1f}MB {r['rows']:8d} {r['parse_s']:7.2f}s "
              f"{r['parse_store_s']:11.2f}s {r['cpu_s']:7.2f}s {r['peak_mb']:7.0f}MB  {ok}", flush=True)
    folder.rmdir()
    print(f"JSON backend: ijson {runs[-1]['backend'] if runs else '?'}")


if __name__ == "__main__":
    main()
