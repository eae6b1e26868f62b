"""The first job of a fresh script on the embedded emulator, timed from ``VendorProvider()``.

    python benchmarks/first_job.py [--runs 5] [--baseline /path/to/other/checkout]

Each run is a new Python process (a user's script), on a scratch database, that times:

* ``import qiskit_vendor_provider``;
* ``VendorProvider()`` (which sets up the embedded emulator);
* from ``VendorProvider()`` to the result of ``backend.run(bell, shots=100)``: the
  provider, ``get_backend``, the submission and the result, the number issue 22 judges
  (goal: at most 300 ms), and each of those steps on its own;
* a second job on the same backend, ``run()`` to result (must not get slower).

Qiskit and the circuit are imported and built before the clock starts, as any script
does before it asks for a provider. With ``--baseline``, the same script also runs with
that checkout first on ``PYTHONPATH``, interleaved run by run, so the two see the same load.

The scripts read compiled bytecode, as an installed package's users do (pip compiles it
at install): the cache is a scratch directory (``PYTHONPYCACHEPREFIX``), filled by one
untimed script per checkout, whatever ``PYTHONDONTWRITEBYTECODE`` says. Without it,
every script compiles the package's modules from source (about 40 ms of a first job on
a 2-CPU machine). ``--no-bytecode`` measures that case.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import json, sys, time
started = time.perf_counter()
import qiskit_vendor_provider
imported = time.perf_counter()
from qiskit import QuantumCircuit
from qiskit_vendor_provider import VendorProvider
bell = QuantumCircuit(2)
bell.h(0)
bell.cx(0, 1)
bell.measure_all()
begin = time.perf_counter()
provider = VendorProvider()
made = time.perf_counter()
backend = provider.get_backend("ideal_simulator")
fetched = time.perf_counter()
job = backend.run(bell, shots=100)
sent = time.perf_counter()
result = job.result()
done = time.perf_counter()
assert sum(result.get_counts().values()) == 100
again = backend.run(bell, shots=100).result()
second = time.perf_counter()
assert sum(again.get_counts().values()) == 100
print(json.dumps({
    "import": imported - started, "provider": made - begin, "get_backend": fetched - made,
    "run": sent - fetched, "result": done - sent, "first_job": done - begin,
    "second_job": second - done, "package": qiskit_vendor_provider.__file__,
}))
"""

FIGURES = (
    "import",
    "provider",
    "get_backend",
    "run",
    "result",
    "first_job",
    "second_job",
)


def one_run(checkout: Path, scratch: Path, bytecode: Path | None) -> dict[str, float]:
    """One fresh script with ``checkout`` first on the path; its figures in seconds.

    With ``bytecode``, modules are compiled once into that directory and read from it.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(checkout), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    if bytecode is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode)
    with tempfile.TemporaryDirectory(dir=scratch) as run_dir:
        # A fresh database and journal each run: the first job of a new user.
        env["QISKIT_VENDOR_EMULATOR_DB"] = str(Path(run_dir) / "embedded.sqlite3")
        env["QISKIT_VENDOR_JOURNAL"] = str(Path(run_dir) / "journal.sqlite3")
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=run_dir,
            timeout=600,
        )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    package = str(figures.pop("package"))
    if not package.startswith(str(checkout)):
        raise SystemExit(f"the script imported {package}, not the checkout {checkout}")
    return figures


def measure(
    runs: int, checkouts: dict[str, Path], *, bytecode: bool = True
) -> dict[str, dict[str, list[float]]]:
    """Seconds per figure per checkout, the checkouts interleaved run by run.

    With ``bytecode``, one untimed script per checkout first fills a scratch bytecode
    cache that the timed ones read.
    """
    samples = {name: {figure: [] for figure in FIGURES} for name in checkouts}
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        cache = scratch / "pycache" if bytecode else None
        if cache is not None:
            for checkout in checkouts.values():
                one_run(checkout, scratch, cache)
        for _ in range(runs):
            for name, checkout in checkouts.items():
                for figure, seconds in one_run(checkout, scratch, cache).items():
                    samples[name][figure].append(seconds)
    return samples


def medians_ms(samples: dict[str, list[float]]) -> dict[str, float]:
    """The median of each figure, in milliseconds."""
    return {figure: 1000 * statistics.median(values) for figure, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh scripts per checkout")
    parser.add_argument("--baseline", type=Path, help="another checkout to time alongside")
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="compile every module from source in every script (no bytecode cache)",
    )
    args = parser.parse_args(argv)
    checkouts = {"this checkout": ROOT}
    if args.baseline is not None:
        checkouts = {"baseline": args.baseline.resolve(), **checkouts}
    samples = measure(args.runs, checkouts, bytecode=not args.no_bytecode)
    print(f"| checkout | {' | '.join(FIGURES)} |")
    print(f"|---|{'---:|' * len(FIGURES)}")
    for name, figures in samples.items():
        medians = medians_ms(figures)
        cells = " | ".join(f"{medians[figure]:.0f} ms" for figure in FIGURES)
        print(f"| {name} ({checkouts[name]}) | {cells} |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"(median of {args.runs} fresh scripts each, interleaved; "
        f"{'no bytecode cache' if args.no_bytecode else 'bytecode cached'}; "
        f"{os.cpu_count()} CPUs; 1-minute load {load:.2f} at the end)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
