"""A cached get-token from two commits, side by side in one run: did a change cost the hot path anything?

    bench/run-side-by-side REF [--rounds N] [--output FILE]

Both commits are built into wheels and installed (the newest pip, as the README says; no dependencies: a cached
token needs none) into two venvs on this interpreter. One token is cached with this checkout's .venv; both
commands then serve it from the same cache directory (the cache format is part of the contract between
versions), interleaved with `python -c pass` in a new seeded random order each round. A command that did not
serve the cached token fails the run instead of being timed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from bench import Series, fmt, interleave, machine_facts  # noqa: E402  (bench/ is not a package)
from harness import exec_credential_token, median, percentile, run_ok, spn_invocation, world  # noqa: E402

from akslogin.emulator import Emulator  # noqa: E402


def _quiet(argv: list[str], cwd: Path | None = None) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, cwd=cwd)
    if done.returncode != 0:
        raise SystemExit(f"side_by_side: {' '.join(argv[:4])} ... failed:\n{done.stderr[-2000:]}")


def _install(source: Path, where: Path) -> Path:
    """The `akslogin` command of ``source`` (a checkout), installed from its wheel by the newest pip."""
    wheels = where / "wheel"
    _quiet([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps", "-w",
            str(wheels), str(source)])
    wheel = next(wheels.glob("akslogin-*.whl"))
    venv = where / "venv"
    _quiet([sys.executable, "-m", "venv", str(venv)])
    # The newest pip, as the README tells users: the pip a venv comes with writes a console-script wrapper that
    # imports re first (about 8 ms here), which would hide what the two commits themselves cost.
    _quiet([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--upgrade",
            "pip"])
    _quiet([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
            str(wheel)])
    return venv / "bin" / "akslogin"


def _commit(ref: str) -> str:
    return subprocess.run(["git", "rev-parse", "--short", ref], capture_output=True, text=True, cwd=ROOT,
                          check=True).stdout.strip()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/run-side-by-side", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ref", help="the commit to compare this checkout with (e.g. HEAD~3, a tag, a hash)")
    parser.add_argument("--rounds", type=int, default=60, help="interleaved rounds (default 60)")
    parser.add_argument("--output", default="", help="also write the report to this file")
    args = parser.parse_args(argv)
    started = time.monotonic()
    old, new = _commit(args.ref), _commit("HEAD")
    with tempfile.TemporaryDirectory(prefix="akslogin-side-by-side-") as tmp_name:
        tmp = Path(tmp_name)
        _quiet(["git", "worktree", "add", "--detach", str(tmp / "old-src"), args.ref], cwd=ROOT)
        try:
            old_cmd = _install(tmp / "old-src", tmp / "old")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tmp / "old-src")], cwd=ROOT,
                           capture_output=True)
        new_cmd = _install(ROOT, tmp / "new")
        python = str(new_cmd.parent / "python")
        with Emulator(world(), tmp / "emulator") as emu:
            hit = spn_invocation(emu, tmp / "hit", "a")
            run_ok(hit)  # cached by this checkout's .venv
            series = [Series("`python -c pass` (baseline)", [python, "-c", "pass"], hit.env)]
            for label, command in ((f"`akslogin get-token`, cached — {old} ({args.ref})", old_cmd),
                                   (f"`akslogin get-token`, cached — {new} (this checkout)", new_cmd)):
                argv_ = [str(command), *hit.argv[1:]]
                probe = subprocess.run(argv_, env=hit.env, capture_output=True, text=True, timeout=60)
                if probe.returncode != 0 or exec_credential_token(probe.stdout) is None:
                    raise SystemExit(f"side_by_side: {label} did not serve the cached token:\n{probe.stderr[-2000:]}")
                series.append(Series(label, argv_, hit.env))
            interleave(series, args.rounds)
    base = median(series[0].ms())
    lines = ["# Cached get-token, two commits side by side", "", *machine_facts(), "",
             f"- rounds: {args.rounds} per command, interleaved; whole run {time.monotonic() - started:.0f} s", "",
             "| command | median ms | p90 ms | min ms | median ÷ baseline |", "| --- | ---: | ---: | ---: | ---: |"]
    for s in series:
        lines.append(f"| {s.label} | {fmt(median(s.ms()))} | {fmt(percentile(s.ms(), 90))} | {fmt(min(s.ms()))} | "
                     f"**{fmt(median(s.ms()) / base, 2)}×** |")
    ratio = median(series[2].ms()) / median(series[1].ms())
    lines += ["", f"This checkout ÷ {old}: **{fmt(ratio, 2)}×** by median."]
    report = "\n".join(lines) + "\n"
    sys.stdout.write(report)
    if args.output:
        Path(args.output).write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
