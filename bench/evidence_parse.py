"""Benchmark: parse and store a 100,000-case result file of each evidence format.

    .venv/bin/python bench/evidence_parse.py [--cases 100000] [--database sqlite|URL]

A child process generates each file and another one per format (so that peak memory is that
format's alone) reads it (rows carry the keys the forum reads; the default 20 MB upload limit applies),
then times ``attach_evidence`` (parse + gates + store) + commit into a fresh migrated
SQLite database (or the database URL given). It prints, per format: file size, parse time,
parse+store time and the child's peak resident memory (whole process: interpreter, SQLAlchemy,
the file, the parsed objects). Target (issue 4): under 3 s and under 300 MB on 2 cores.
Not part of the test run.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "evidence"))

FORMATS = ["promptfoo", "promptfoo-jsonl", "inspect-json", "inspect-eval", "lm-eval-samples",
           "lm-eval-results", "junit", "csv"]
TAGS = [["smoke", "billing"], ["orders"], ["edge-case", "i18n"], ["pii", "edge-case"], [], ["security"]]


def status_of(i: int) -> str:
    return "errored" if i % 97 == 0 else "failed" if i % 5 == 0 else "passed"


# ------------------------------------------------------------------------------ generators
def gen_promptfoo_rows(n: int):
    """promptfoo results with the keys the forum reads (the real tool writes more per row)."""
    for i in range(n):
        st = status_of(i)
        row = {
            "provider": {"id": "echo"}, "vars": {"n": i},
            "response": {"output": f"Ticket {i}"}, "success": st == "passed",
            "failureReason": {"passed": 0, "failed": 1, "errored": 2}[st],
            "testCase": {"description": f"c{i}", "metadata": {"tags": TAGS[i % len(TAGS)]}},
        }
        if st != "passed":
            row["error"] = "Expected output to contain x"
        if i % 7 == 0:
            row["testCase"]["metadata"]["difficulty"] = "edge"
        yield row


def gen_promptfoo(n: int) -> bytes:
    rows = list(gen_promptfoo_rows(n))
    doc = {"evalId": "bench", "results": {"version": 3, "timestamp": "2026-11-24T10:00:00Z", "prompts": [],
                                          "results": rows, "stats": {"successes": 0, "failures": 0, "errors": 0}},
           "config": {"description": "bench"}, "metadata": {"promptfooVersion": "0.121.20"}}
    return json.dumps(doc, separators=(",", ":")).encode()


def gen_promptfoo_jsonl(n: int) -> bytes:
    return "\n".join(json.dumps(r, separators=(",", ":")) for r in gen_promptfoo_rows(n)).encode()


def gen_inspect_samples(n: int, summary: bool = False):
    for i in range(n):
        st = status_of(i)
        sample = {
            "id": f"s{i}", "epoch": 1, "input": f"Route {i}", "target": "billing",
            "scores": {} if st == "errored" else {"includes": {"value": "C" if st == "passed" else "I"}},
            "metadata": {"tags": TAGS[i % len(TAGS)]},
        }
        if st == "errored":
            sample["error"] = "Error('bad input')" if summary else {"message": "Error('bad input')"}
        yield sample


def _inspect_header(n: int) -> dict:
    return {"version": 2, "status": "success",
            "eval": {"task": "bench", "model": "mockllm/bench", "created": "2026-11-24T10:00:00+00:00",
                     "metadata": {"model_version": "1.0"}},
            "results": {"total_samples": n, "completed_samples": n,
                        "scores": [{"name": "includes", "scorer": "includes", "scored_samples": n,
                                    "metrics": {"accuracy": {"name": "accuracy", "value": 0.8}}}],
                        "headline": {"scorer": "includes", "score": "includes", "metric": "accuracy"}}}


def gen_inspect_json(n: int) -> bytes:
    doc = _inspect_header(n) | {"samples": list(gen_inspect_samples(n))}
    return json.dumps(doc, separators=(",", ":")).encode()


def gen_inspect_eval(n: int) -> bytes:
    from conftest import make_zip  # tests/evidence/conftest.py: writes zstd (method 93) members

    summaries = json.dumps(list(gen_inspect_samples(n, summary=True)), separators=(",", ":")).encode()
    return make_zip({"header.json": json.dumps(_inspect_header(n)).encode(), "summaries.json": summaries})


def gen_lm_eval_samples(n: int) -> bytes:
    lines = []
    for i in range(n):
        st = status_of(i)
        lines.append(json.dumps({
            "doc_id": i, "doc": {"id": f"em-{i}", "tags": TAGS[i % len(TAGS)]}, "target": "LOL",
            "filtered_resps": ["lol"], "metrics": ["exact_match"], "exact_match": 1.0 if st == "passed" else 0.0,
        }, separators=(",", ":")))
    return "\n".join(lines).encode()


def gen_lm_eval_results(n: int) -> bytes:
    return json.dumps({"results": {"bench": {"alias": "bench", "acc,none": 0.8, "acc_stderr,none": 0.001}},
                       "n-samples": {"bench": {"original": n, "effective": n}}, "model_name": "acme/bench",
                       "date": 1795539915.0, "lm_eval_version": "0.4.13"}).encode()


def gen_junit(n: int) -> bytes:
    out = io.StringIO()
    out.write('<?xml version="1.0" encoding="utf-8"?><testsuites name="bench">'
              f'<testsuite name="bench" tests="{n}" timestamp="2026-11-24T10:00:00">'
              '<properties><property name="model" value="bench-lm"/><property name="model_version" value="1.0"/></properties>')
    for i in range(n):
        st = status_of(i)
        category = "edge-case" if "edge-case" in TAGS[i % len(TAGS)] else "happy-path"
        out.write(f'<testcase classname="evals" name="t{i}">'
                  f'<properties><property name="category" value="{category}"/></properties>')
        if st == "failed":
            out.write(f'<failure message="AssertionError: case {i}">assert False</failure>')
        elif st == "errored":
            out.write('<error message="failed on setup">FileNotFoundError</error>')
        out.write("</testcase>")
    out.write("</testsuite></testsuites>")
    return out.getvalue().encode()


def gen_csv(n: int) -> bytes:
    lines = ["case_id,passed,tags,score,model,model_version"]
    for i in range(n):
        st = status_of(i)
        word = {"passed": "true", "failed": "false", "errored": "error"}[st]
        lines.append(f"c-{i},{word},{';'.join(TAGS[i % len(TAGS)])},0.5,bench-lm,1.0")
    return ("\n".join(lines) + "\n").encode()


GENERATORS = {
    "promptfoo": gen_promptfoo, "promptfoo-jsonl": gen_promptfoo_jsonl, "inspect-json": gen_inspect_json,
    "inspect-eval": gen_inspect_eval, "lm-eval-samples": gen_lm_eval_samples,
    "lm-eval-results": gen_lm_eval_results, "junit": gen_junit, "csv": gen_csv,
}


# ------------------------------------------------------------------------------------- child
def run_one(fmt: str, path: Path, database: str) -> dict:
    from forum import create_app, db
    from forum.auth import service as accounts
    from forum.evidence import service
    from forum.evidence.parsers import Limits, parse
    from forum.items import service as items
    from forum.migrate import upgrade

    data = path.read_bytes()
    limits = Limits()  # the defaults: 20 MB files, 200 MB unpacked
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
        started = time.perf_counter()
        with app.app_context(), db.session_scope(app) as session:
            user = accounts.get_user_by_email(session, "bench@example.com")
            item = session.get(type(item), item.id)
            run = service.attach_evidence(session, user, item, f"bench.{fmt}", data, limits)
            total = run.total
        stored_at = time.perf_counter()
        db.get_engine(app).dispose()
    parse_started = time.perf_counter()
    parsed = parse(data, f"bench.{fmt}", limits)
    parsed_at = time.perf_counter()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"format": fmt, "bytes": len(data), "rows": parsed.total, "stored_rows": total,
            "parse_s": parsed_at - parse_started, "parse_store_s": stored_at - started, "peak_mb": peak_kb / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--one", choices=FORMATS, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--generate", choices=FORMATS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        args.file.write_bytes(GENERATORS[args.generate](args.cases))
        return
    if args.one:
        print(json.dumps(run_one(args.one, args.file, args.database)))
        return
    print(f"{'format':17s} {'file':>9s} {'rows':>8s} {'parse':>8s} {'parse+store':>12s} {'peak RSS':>9s}")
    folder = Path(tempfile.mkdtemp(prefix="evidence-bench-"))
    for fmt in FORMATS:
        path = folder / f"bench.{fmt}"
        # Generated in a child of its own: a large parent would inflate the measuring child's peak
        # RSS (Linux keeps the high-water mark across fork + exec).
        subprocess.run([sys.executable, __file__, "--generate", fmt, "--file", str(path),
                        "--cases", str(args.cases)], check=True)
        out = subprocess.run([sys.executable, __file__, "--one", fmt, "--file", str(path),
                              "--database", args.database], capture_output=True, text=True, check=True)
        path.unlink()
        r = json.loads(out.stdout.strip().splitlines()[-1])
        ok = "ok" if r["parse_store_s"] < 3 and r["peak_mb"] < 300 else "OVER TARGET"
        print(f"{r['format']:17s} {r['bytes'] / 1e6:7.1f}MB {r['rows']:8d} {r['parse_s']:7.2f}s "
              f"{r['parse_store_s']:11.2f}s {r['peak_mb']:7.0f}MB  {ok}")


if __name__ == "__main__":
    main()
