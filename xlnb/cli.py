"""The ``xlnb`` command: list, run and reproduce the notebooks.

    xlnb list
    xlnb run midalign/fig1a_layer_retrieval --profile smoke -p n_pairs=8 [--force]
    xlnb reproduce --profile demo [--only 'midalign/*'] [-p load_in_4bit=true] [--force]
    xlnb report --profile demo [--out FILE] [--readme README.md]
"""

from __future__ import annotations

import argparse
import logging
import sys

import yaml

from xlnb import report, run

USER_ERRORS = (ValueError, TypeError, LookupError, FileNotFoundError)


def parse_override(text: str) -> tuple[str, object]:
    """``key=value`` with the value read as YAML (``n=3`` is an int, ``langs=[en, de]`` a list)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise ValueError(f"bad parameter {text!r}: expected key=value, e.g. -p n_pairs=8")
    try:
        return key, yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise ValueError(f"bad value in {text!r}: {exc.problem or exc}") from None


def format_table(header: list[str], rows: list[list[str]]) -> str:
    """Left-aligned columns separated by two spaces, with a rule under the header."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip()
                     for line in lines)


def _summary(results: list[run.RunResult]) -> str:
    """The table printed after ``run`` and ``reproduce``; errors listed under it."""
    rows = [[r.notebook, r.status, f"{r.seconds:.1f}", str(len(r.outputs))] for r in results]
    table = format_table(["notebook", "status", "seconds", "outputs"], rows)
    errors = [f"{r.notebook}: {r.error}" + (f"\n  see {r.executed}" if r.executed else "")
              for r in results if r.status == "failed"]
    ignored: dict[str, list[str]] = {}
    for r in results:
        for key in r.ignored:
            ignored.setdefault(key, []).append(r.notebook)
    notes = [f"-p {key}: not a parameter of {', '.join(refs)} (run without it)"
             for key, refs in ignored.items()]
    return "\n".join([table, *(["", *notes] if notes else []),
                      *(["", "failures:"] + errors if errors else [])])


def cmd_list(args: argparse.Namespace) -> int:
    """Print the notebooks, the figure or table each reproduces, and their profiles."""
    rows = [[n["notebook"], n["title"], ", ".join(n["profiles"])] for n in run.list_notebooks()]
    if not rows:
        print("no notebooks found under notebooks/")
        return 0
    print(format_table(["notebook", "figure/table", "profiles"], rows))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run one notebook; non-zero exit when it fails."""
    overrides = dict(parse_override(p) for p in args.param)
    result = run.run_notebook(args.notebook, args.profile, overrides, force=args.force)
    print(_summary([result]))
    if result.status == "skipped":
        print("(up to date; use --force to run again)")
    return 1 if result.status == "failed" else 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    """Run every notebook of a profile; non-zero exit when any failed."""
    overrides = dict(parse_override(p) for p in args.param)
    results = run.reproduce(args.profile, only=args.only, force=args.force, overrides=overrides)
    print(_summary(results))
    return 1 if any(r.status == "failed" for r in results) else 0


def cmd_report(args: argparse.Namespace) -> int:
    """Print the paper-vs-ours table of a profile; also write it to ``--out``."""
    print(report.report(args.profile, args.out), end="")
    for path in report.unrecorded_files(args.profile):
        print(f"note: {path} is not from a finished run (no manifest lists it)", file=sys.stderr)
    if args.out:
        print(f"(written to {args.out})", file=sys.stderr)
    if args.readme:
        report.update_readme(args.profile, args.readme)
        print(f"(table and figures updated in {args.readme})", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``xlnb`` command."""
    parser = argparse.ArgumentParser(prog="xlnb", description="Run the xlnb notebooks.")
    parser.add_argument("-q", "--quiet", action="store_true", help="do not echo notebook output")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list notebooks, what they reproduce, their profiles")
    one = sub.add_parser("run", help="run one notebook")
    one.add_argument("notebook", help="e.g. midalign/fig1a_layer_retrieval")
    one.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                     help="override a parameter (value read as YAML); repeatable")
    every = sub.add_parser("reproduce", help="run every notebook of a profile")
    every.add_argument("--only", metavar="GLOB", help="only notebooks matching this glob")
    every.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                       help="override a parameter in every notebook that has it (value read "
                            "as YAML); repeatable")
    for p in (one, every):
        p.add_argument("--profile", required=True, help="smoke, demo or paper")
        p.add_argument("--force", action="store_true", help="run even when up to date")
    table = sub.add_parser("report", help="paper vs ours: every notebook's headline numbers")
    table.add_argument("--profile", required=True, help="smoke, demo or paper")
    table.add_argument("--out", metavar="FILE", help="also write the markdown table here")
    table.add_argument("--readme", metavar="FILE",
                       help="rewrite the <profile>-report and <profile>-figures blocks of this "
                            "README (notebooks without results here keep theirs)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (1: a notebook failed, 2: bad input)."""
    args = build_parser().parse_args(argv)
    if not args.quiet:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    commands = {"list": cmd_list, "run": cmd_run, "reproduce": cmd_reproduce,
                "report": cmd_report}
    try:
        return commands[args.command](args)
    except USER_ERRORS as exc:
        message = exc.args[0] if isinstance(exc, LookupError) and exc.args else exc
        print(f"xlnb: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xlnb: interrupted", file=sys.stderr)
        return 130
