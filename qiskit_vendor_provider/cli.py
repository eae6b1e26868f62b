"""``qiskit-vendor``: the command line of the SDK.

Exit codes (also in ``docs/cli.md``):

====  =====================================================================
0     success
1     the job failed or was cancelled
2     wrong command-line usage (unknown option, missing argument)
3     invalid input: a bad circuit, option or filter (nothing was sent), or a local
      file (accounts, job journal, emulator database) that cannot be used
4     not found: unknown device or job
5     authentication: missing, wrong or unsafe token
6     the server or the network failed (after retries)
130   interrupted (Ctrl-C)
====  =====================================================================

Errors go to stderr as one ``error: ...`` line that says what to do, in the words of
this command line (``--overwrite``, not ``overwrite=True``). Everything printed that came
from a user or a server (job names, messages) has its unprintable characters escaped.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from qiskit.circuit.controlflow import CONTROL_FLOW_OP_NAMES

from qiskit_vendor_provider._version import __version__
from qiskit_vendor_provider.errors import (
    DatabaseFileError,
    VendorAuthError,
    VendorError,
    VendorJobError,
    VendorNotFoundError,
    VendorValidationError,
)
from qiskit_vendor_provider.target import device_capabilities, format_figure

EXIT_JOB_FAILED = 1
EXIT_INVALID = 3
EXIT_NOT_FOUND = 4
EXIT_AUTH = 5
EXIT_SERVER = 6
EXIT_INTERRUPTED = 130


def exit_code(error: BaseException) -> int:
    """The documented exit code for an error.

    >>> exit_code(VendorNotFoundError("x")), exit_code(VendorJobError("x"))
    (4, 1)
    """
    if isinstance(error, VendorJobError):
        return EXIT_JOB_FAILED
    if isinstance(error, (VendorValidationError, DatabaseFileError)):
        return EXIT_INVALID
    if isinstance(error, VendorNotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(error, VendorAuthError):
        return EXIT_AUTH
    return EXIT_SERVER


# Python spellings in the package's messages, and what a CLI user types instead.
_CLI_WORDS = (
    (r"pass overwrite=True", "pass --overwrite"),
    (
        r"VendorProvider\.save_account\(token=\.\.\., url=\.\.\.(?:, name=\.\.\.)?\)",
        "`qiskit-vendor account save --token ... --url ... --name ...`",
    ),
    (r"VendorProvider\.save_account(?:\(\.\.\.\))?", "`qiskit-vendor account save`"),
    (r"VendorProvider\(token=\.\.\.\)", "--token"),
    (r"VendorProvider\(timeout=\.\.\.\)", "a shorter distance to the server"),
    (r"\bjob_name=", "--name "),
    (r"\bstart_datetime=", "--since "),
    (r"\bend_datetime=", "--until "),
    (r"\bbackend_name=", "--device "),
    (r"\bjob_tags=", "--tag "),
    (r"\bshots=", "--shots "),
    (r"\bseed_simulator=", "--seed "),
    (r"\blimit=", "--limit "),
    (r"\bskip=", "--skip "),
    (r"\bstatus=", "--status "),
)


def cli_words(message: str) -> str:
    """A package message with Python argument names replaced by this CLI's flags.

    >>> cli_words("already saved; pass overwrite=True to replace it")
    'already saved; pass --overwrite to replace it'
    """
    for pattern, replacement in _CLI_WORDS:
        message = re.sub(pattern, replacement, message)
    return message


def printable(text: object) -> str:
    r"""``text`` with line breaks, tabs, NULs and other unprintable characters escaped.

    Job names, tags and server messages are printed through this, so none of them can
    move the cursor, split a table row or hide text in a terminal.

    >>> print(printable("ok"), printable("a\nb\x00c\x1b[2J"))
    ok a\nb\x00c\x1b[2J
    """
    value = str(text)
    if value.isprintable():
        return value
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in value)


@contextmanager
def _reported() -> Iterator[None]:
    """Turn package errors into one stderr line and the documented exit code."""
    try:
        yield
    except VendorError as error:
        click.echo(f"error: {printable(cli_words(str(error)))}", err=True)
        sys.exit(exit_code(error))
    except (KeyboardInterrupt, click.Abort):
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except OSError as error:
        # A config or data file that cannot be read or written: the user's to fix.
        where = f" {error.filename}" if error.filename else ""
        click.echo(f"error: cannot use{where}: {printable(error.strerror or error)}", err=True)
        sys.exit(EXIT_INVALID)


class _Context:
    def __init__(self, url: str | None, token: str | None, account: str | None) -> None:
        self.url, self.token, self.account = url, token, account

    def provider(self) -> Any:
        from qiskit_vendor_provider.provider import VendorProvider  # noqa: PLC0415 - fast --help

        return VendorProvider(url=self.url, token=self.token, name=self.account)


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _table(rows: list[list[str]], header: list[str]) -> str:
    rows = [[printable(cell) for cell in row] for row in rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def _short(names: list[str], width: int = 44) -> str:
    """Names joined by commas, cut to ``width`` characters with a count of the rest.

    >>> _short(["a", "b", "c"], width=3)
    'a,b (+1)'
    """
    shown: list[str] = []
    for name in names:
        if len(",".join([*shown, name])) > width:
            return f"{','.join(shown)} (+{len(names) - len(shown)})"
        shown.append(name)
    return ",".join(shown)


def histogram(counts: dict[str, int], width: int = 40) -> str:
    """Counts as text bars, most frequent first.

    >>> print(histogram({"00": 3, "11": 1}, width=6))
    00  3  ######  75.0%
    11  1  ##      25.0%
    """
    total = sum(counts.values()) or 1
    peak = max(counts.values(), default=1)
    key_width = max((len(k) for k in counts), default=1)
    count_width = len(str(peak))
    lines = []
    for key, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        bar = "#" * max(1, round(width * count / peak)) if count else ""
        lines.append(
            f"{key.ljust(key_width)}  {str(count).rjust(count_width)}  {bar.ljust(width)}  "
            f"{100 * count / total:.1f}%"
        )
    return "\n".join(lines)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qiskit-vendor")
# No envvar= here: QISKIT_VENDOR_URL/TOKEN are read by VendorProvider itself, so that an
# environment URL stays an environment URL (which --account beats), as in Python.
@click.option(
    "--url",
    help="Server URL (default: QISKIT_VENDOR_URL, a saved account, or the embedded emulator).",
)
@click.option(
    "--token",
    help="API token (default: QISKIT_VENDOR_TOKEN or a saved account; prefer those).",
)
@click.option("--account", "account_name", default=None, help="A saved account's name.")
@click.pass_context
def main(ctx: click.Context, url: str | None, token: str | None, account_name: str | None) -> None:
    """Run circuits on the vendor's quantum devices and manage jobs."""
    ctx.obj = _Context(url, token, account_name)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def devices(obj: _Context, as_json: bool) -> None:
    """List the devices and what each offers, whether it accepts jobs, its queue length.

    Per device: qubits (``26/27`` when the calibration has one out of service),
    natives, dynamic circuits, max shots, circuits and operations, median gate and
    readout errors, median T1/T2.
    """
    with _reported():
        rows = []
        for backend in obj.provider().backends():
            status = backend.status()
            caps = device_capabilities(backend.spec)
            faulty = backend.faulty_qubits()
            rows.append(
                {
                    "name": backend.name,
                    "qubits": backend.num_qubits,
                    "operational_qubits": backend.num_qubits - len(faulty),
                    "faulty_qubits": faulty,
                    "faulty_gates": [
                        {"gate": g.gate, "qubits": g.qubits} for g in backend.faulty_gates()
                    ],
                    "natives": sorted(caps.natives),
                    "dynamic_circuits": caps.dynamic_circuits,
                    "max_shots": caps.max_shots,
                    "max_circuits": caps.max_circuits,
                    "max_operations": caps.max_operations,
                    "median_1q_error": caps.median_1q_error,
                    "median_2q_error": caps.median_2q_error,
                    "median_readout_error": caps.median_readout_error,
                    "median_t1": caps.median_t1,
                    "median_t2": caps.median_t2,
                    "operational": status.operational,
                    "pending_jobs": status.pending_jobs,
                    "message": status.status_msg,
                }
            )
        if as_json:
            _emit_json(rows)
            return
        click.echo(
            _table(
                [
                    [
                        r["name"],
                        _qubit_count(r["operational_qubits"], r["qubits"]),
                        _short(r["natives"]),
                        "yes" if r["dynamic_circuits"] else "no",
                        str(r["max_shots"]),
                        str(r["max_circuits"]),
                        str(r["max_operations"]),
                        f"{format_figure(r['median_1q_error'])}/"
                        f"{format_figure(r['median_2q_error'])}",
                        format_figure(r["median_readout_error"]),
                        f"{format_figure(r['median_t1'], 's')}/"
                        f"{format_figure(r['median_t2'], 's')}",
                        "yes" if r["operational"] else "no",
                        str(r["pending_jobs"]),
                    ]
                    for r in rows
                ],
                [
                    "device",
                    "qubits",
                    "natives",
                    "dynamic",
                    "max_shots",
                    "max_circuits",
                    "max_ops",
                    "err_1q/2q",
                    "readout",
                    "T1/T2",
                    "operational",
                    "pending",
                ],
            )
        )


def _qubit_count(operational: int, total: int) -> str:
    """``27``, or ``26/27`` when some qubits are out of service."""
    return str(total) if operational == total else f"{operational}/{total}"


def _faulty_line(backend: Any) -> str | None:
    """What the calibration marks out of service, for ``device``; None if nothing."""
    qubits = backend.faulty_qubits()
    gates = backend.faulty_gates()
    if not qubits and not gates:
        return None
    parts = []
    if qubits:
        parts.append(f"qubits {', '.join(str(q) for q in qubits)}")
    if gates:
        parts.append("gates " + ", ".join(f"{g.gate} {tuple(g.qubits)}" for g in gates))
    return f"out of service: {'; '.join(parts)} (circuits are laid out around them)"


@main.command()
@click.argument("name")
@click.argument("snapshot_of", required=False, metavar="[NAME]")
@click.option("--json", "as_json", is_flag=True, help="The full device spec as JSON.")
@click.option(
    "--calibration-id",
    default=None,
    help="With snapshot: take this calibration (default: the current one).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With snapshot: the device file to write.",
)
@click.pass_obj
def device(  # noqa: PLR0917 - one parameter per click argument and option
    obj: _Context,
    name: str,
    snapshot_of: str | None,
    as_json: bool,
    calibration_id: str | None,
    output: Path | None,
) -> None:
    """Show one device: its spec, limits and a calibration summary.

    `device snapshot NAME [--calibration-id ID] -o FILE` writes a device file instead:
    the device's spec, limits and one calibration, which `VendorProvider(devices=[FILE])`,
    the emulator's `--device-file` and the pytest plugin serve as a fake device.
    """
    if name == "snapshot" and snapshot_of is not None:
        _snapshot(obj, snapshot_of, calibration_id, output)
        return
    if snapshot_of is not None or calibration_id is not None or output is not None:
        raise click.UsageError(
            "--calibration-id and -o go with `device snapshot NAME`; to show a device: "
            "`device NAME`"
        )
    with _reported():
        backend = obj.provider().get_backend(name)
        if as_json:
            click.echo(backend.spec.model_dump_json(indent=2))
            return
        spec, limits = backend.spec, backend.limits
        click.echo(f"{spec.name}: {printable(spec.description)}")
        usable = spec.num_qubits - len(backend.faulty_qubits())
        qubits = f"{spec.num_qubits}" + (
            f" ({usable} operational)" if usable != spec.num_qubits else ""
        )
        click.echo(f"qubits: {qubits}   simulator: {spec.simulator}   dt: {spec.dt}")
        faulty = _faulty_line(backend)
        if faulty is not None:
            click.echo(faulty)
        flow = sorted(set(backend.operation_names) & set(CONTROL_FLOW_OP_NAMES))
        natives = sorted(set(backend.operation_names) - set(flow))
        click.echo(f"natives: {', '.join(natives)}")
        click.echo(f"dynamic circuits: {', '.join(flow) if flow else 'no'}")
        coupling = backend.coupling_map
        pairs = "all-to-all" if coupling is None else f"{len(coupling.get_edges())} directed pairs"
        click.echo(f"coupling: {pairs}")
        click.echo(
            f"limits: {limits.max_shots} shots, {limits.max_circuits} circuits, "
            f"{limits.max_payload_bytes} bytes per job"
        )
        status = backend.status()
        click.echo(
            f"status: {'operational' if status.operational else 'not accepting jobs'}, "
            f"{status.pending_jobs} pending"
            + (f" ({printable(status.status_msg)})" if status.status_msg else "")
        )
        properties = backend.properties()
        if properties is None:
            click.echo("calibration: none (ideal)")
            return
        cal = properties.calibration
        readout = sorted(q.readout_error for q in cal.qubits)
        worst = max(range(len(cal.qubits)), key=lambda q: cal.qubits[q].readout_error)
        click.echo(
            f"calibration: {properties.last_update_date.isoformat()}"
            + (f" ({backend.calibration_id})" if backend.calibration_id else "")
        )
        click.echo(
            f"  readout error: median {readout[len(readout) // 2]:.3g}, worst {readout[-1]:.3g} "
            f"(qubit {worst})"
        )
        for arity in (1, 2):
            errors = sorted(g.error for g in cal.gates if len(g.qubits) == arity and g.error)
            if errors:
                median, worst_error = errors[len(errors) // 2], errors[-1]
                click.echo(
                    f"  {arity}-qubit gate error: median {median:.3g}, worst {worst_error:.3g}"
                )
        for line in _slow_noise_lines(cal):
            click.echo(line)


def _snapshot(obj: _Context, name: str, calibration_id: str | None, output: Path | None) -> None:
    """Write device ``name`` at a calibration (default: current) as a device file."""
    if output is None:
        raise click.UsageError("device snapshot needs -o FILE, the device file to write")
    from qiskit_vendor_provider.api.device_file import write_device_file  # noqa: PLC0415

    with _reported():
        backend = obj.provider().get_backend(name, calibration_id=calibration_id)
        written = write_device_file(backend.spec, output)
        which = backend.calibration_id or "no calibration"
        click.echo(f"wrote {name} ({which}) to {written}")


def _slow_noise_lines(cal: Any) -> list[str]:
    """The calibration's T2*, ZZ and coherent-error figures, as ``device`` shows them."""
    lines = []
    stars = sorted(q.t2_star for q in cal.qubits if q.t2_star)
    if stars:
        lines.append(f"  T2* (Ramsey): median {stars[len(stars) // 2] * 1e6:.3g} us")
    zz = sorted(abs(c.zz_hz) for c in cal.couplings if c.zz_hz)
    if zz:
        lines.append(
            f"  ZZ: median {zz[len(zz) // 2] / 1e3:.3g} kHz, worst {zz[-1] / 1e3:.3g} kHz "
            f"({len(zz)} pairs)"
        )
    angles = sorted(abs(g.over_rotation) for g in cal.gates if g.over_rotation)
    if angles:
        lines.append(
            f"  coherent over-rotation: median {angles[len(angles) // 2]:.3g} rad, "
            f"worst {angles[-1]:.3g} rad ({len(angles)} gates)"
        )
    return lines


def load_circuit(path: Path) -> Any:
    """An OpenQASM 2 or 3 file as a circuit (the version line decides).

    Raises:
        VendorValidationError: the file cannot be read or parsed.
    """
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise VendorValidationError(f"cannot read {path}: {exc.strerror}") from None
    from qiskit import qasm2, qasm3  # noqa: PLC0415

    try:
        if source.lstrip().startswith("OPENQASM 3"):
            return qasm3.loads(source)
        return qasm2.loads(source, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    except Exception as exc:  # the parsers raise several unrelated types
        raise VendorValidationError(f"{path} is not valid OpenQASM: {exc}") from None


def transpile_for(circuit: Any, backend: Any, optimization_level: int, file: Path) -> Any:
    """``circuit`` transpiled for ``backend``, or a typed error if the transpiler refuses it.

    Raises:
        VendorValidationError: Qiskit's transpiler cannot map the circuit to the device
            (more qubits than it has, control flow it does not run...); the message
            quotes the transpiler and says where to find a device that fits.
    """
    from qiskit.exceptions import QiskitError  # noqa: PLC0415 - fast --help
    from qiskit.transpiler import generate_preset_pass_manager  # noqa: PLC0415

    if circuit.num_qubits > backend.num_qubits:
        # Qiskit's own words for this vary between releases, and some give no numbers.
        raise VendorValidationError(
            f"{file} cannot run on {backend.name}: the circuit has {circuit.num_qubits} "
            f"qubits and the device {backend.num_qubits}. Nothing was sent; "
            "`qiskit-vendor devices` lists each device's qubits, to choose one that fits"
        )
    manager = generate_preset_pass_manager(backend=backend, optimization_level=optimization_level)
    try:
        return manager.run(circuit)
    except VendorError:
        raise  # the package's own passes already say what to do
    except QiskitError as exc:
        reason = str(getattr(exc, "message", "") or exc).strip().strip("\"'").rstrip(".")
        error = VendorValidationError(
            f"{file} cannot run on {backend.name}: the transpiler refused it: {reason}. "
            "Nothing was sent; `qiskit-vendor devices` lists each device's qubits and "
            "dynamic circuits, to choose one that fits"
        )
    raise error


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--device", "device_name", required=True, help="Device to run on.")
@click.option("--shots", type=int, default=None, help="Shots (default: the device's).")
@click.option("--seed", type=int, default=None, help="Seed of the emulator's sampling.")
@click.option("--optimization-level", type=click.IntRange(0, 3), default=2, show_default=True)
@click.option("--timeout", type=float, default=None, help="Seconds to wait for the result.")
@click.option("--json", "as_json", is_flag=True, help="Print the job id and counts as JSON.")
@click.pass_obj
def run(
    obj: _Context,
    *,
    file: Path,
    device_name: str,
    shots: int | None,
    seed: int | None,
    optimization_level: int,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Run an OpenQASM 2 or 3 FILE on a device and print the counts with a histogram."""
    with _reported():
        circuit = load_circuit(file)
        if not circuit.cregs and circuit.num_clbits == 0:
            circuit.measure_all()
        backend = obj.provider().get_backend(device_name)
        isa = transpile_for(circuit, backend, optimization_level, file)
        options: dict[str, Any] = {"seed_simulator": seed, "job_name": file.stem}
        if shots is not None:
            options["shots"] = shots
        job = backend.run(isa, **options)
        counts = job.result(timeout=timeout).get_counts()
        if as_json:
            _emit_json({"job_id": job.job_id(), "device": backend.name, "counts": counts})
            return
        click.echo(f"job {job.job_id()} on {backend.name}: {sum(counts.values())} shots")
        click.echo(histogram(counts))


def _parse_time(value: str | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise VendorValidationError(
            f"--{name} {value!r} is not a date; use ISO 8601, e.g. 2026-11-22 or 2026-11-22T08:00"
        ) from None


def _job_row(job: Any) -> dict[str, Any]:
    return {
        "job_id": job.job_id(),
        "device": job.device_name,
        "status": job.status().name,
        "name": job.name(),
        "tags": job.tags(),
        "created": job.creation_date().isoformat(timespec="seconds"),
    }


@main.command()
@click.option("--device", "device_name", default=None, help="Only this device's jobs.")
@click.option("--limit", type=int, default=10, show_default=True)
@click.option("--skip", type=int, default=0, show_default=True)
@click.option("--status", "statuses", multiple=True, help="Repeatable: DONE, QUEUED, ERROR, ...")
@click.option("--name", "name_regex", default=None, help="Regular expression on the job name.")
@click.option(
    "--tag", "tags", multiple=True, help="Repeatable; jobs with any of them (see --all-tags)."
)
@click.option("--all-tags", is_flag=True, help="Jobs must have every --tag.")
@click.option("--since", default=None, help="Created at or after (ISO 8601, local time).")
@click.option("--until", default=None, help="Created before (ISO 8601, local time).")
@click.option("--oldest-first", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def jobs(
    obj: _Context,
    *,
    device_name: str | None,
    limit: int,
    skip: int,
    statuses: tuple[str, ...],
    name_regex: str | None,
    tags: tuple[str, ...],
    all_tags: bool,
    since: str | None,
    until: str | None,
    oldest_first: bool,
    as_json: bool,
) -> None:
    """List your jobs, newest first, with the filters of backend.jobs()."""
    with _reported():
        found = obj.provider().jobs(
            limit=limit,
            skip=skip,
            backend_name=device_name,
            status=list(statuses) or None,
            job_name=name_regex,
            start_datetime=_parse_time(since, "since"),
            end_datetime=_parse_time(until, "until"),
            job_tags=list(tags) or None,
            job_tags_operator="AND" if all_tags else "OR",
            descending=not oldest_first,
        )
        rows = [_job_row(job) for job in found]
        if as_json:
            _emit_json(rows)
            return
        click.echo(
            _table(
                [
                    [
                        r["job_id"],
                        r["device"],
                        r["status"],
                        r["name"] or "",
                        ",".join(r["tags"]),
                        r["created"],
                    ]
                    for r in rows
                ],
                ["job", "device", "status", "name", "tags", "created"],
            )
        )


@main.command()
@click.argument("job_id")
@click.option("--cancel", is_flag=True, help="Cancel the job.")
@click.option("--counts", is_flag=True, help="Wait for the job and print its counts.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def job(obj: _Context, job_id: str, cancel: bool, counts: bool, as_json: bool) -> None:
    """Show one job; --cancel cancels it, --counts prints its result."""
    with _reported():
        found = obj.provider().retrieve_job(job_id)
        if cancel:
            outcome = "cancelled" if found.cancel() else f"not cancelled: {found.status().name}"
            click.echo(f"job {job_id}: {outcome}")
            return
        row = _job_row(found)
        row["queue_position"] = found.queue_position()
        row["error"] = found.error_message()
        if counts:
            result = found.result()
            row["counts"] = [result.get_counts(i) for i in range(len(result.results))]
        if as_json:
            _emit_json(row)
            return
        for key, value in row.items():
            if key != "counts" and value not in (None, [], ""):
                click.echo(f"{key}: {printable(value)}")
        for index, program_counts in enumerate(row.get("counts", [])):
            click.echo(f"counts[{index}]:")
            click.echo(histogram(program_counts))


@main.command(
    context_settings={
        "ignore_unknown_options": True,
        "allow_extra_args": True,
        "help_option_names": [],
    }
)
@click.pass_context
def emulator(ctx: click.Context) -> None:
    """Serve the emulator on loopback (options: see `qiskit-vendor emulator --help`)."""
    from qiskit_vendor_provider.emulator.__main__ import main as serve  # noqa: PLC0415

    serve(list(ctx.args))


@main.group()
def account() -> None:
    """Save or show the credentials `VendorProvider()` uses."""


def _ask_token() -> str:
    """The token typed at a hidden prompt; an empty one is an authentication error (5)."""
    try:
        token = click.prompt("Token", hide_input=True, default="", show_default=False)
    except click.Abort as abort:
        # click turns both Ctrl-C and end of input into Abort; only Ctrl-C is exit 130.
        if isinstance(abort.__context__, KeyboardInterrupt):
            raise
        token = ""
    if not str(token).strip():
        raise VendorAuthError(
            "no token was given: type it at the prompt, or pass --token (or set "
            "QISKIT_VENDOR_TOKEN)"
        )
    return str(token)


@account.command("save")
@click.option("--token", default=None, help="API token (asked for when not given).")
@click.option("--url", default=None, help="Server URL: https://, or http:// to this machine.")
@click.option("--name", default="default", show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an account of the same name.")
def account_save(token: str | None, url: str | None, name: str, overwrite: bool) -> None:
    """Save an account (file mode 0600)."""
    from qiskit_vendor_provider.accounts import save_account  # noqa: PLC0415

    with _reported():
        path = save_account(
            token=_ask_token() if token is None else token,
            url=url,
            name=name,
            overwrite=overwrite,
        )
        click.echo(f"saved account {printable(name)!r} in {path}")


@account.command("show")
@click.option("--json", "as_json", is_flag=True)
def account_show(as_json: bool) -> None:
    """Show the saved accounts (tokens masked)."""
    from qiskit_vendor_provider.accounts import config_path, saved_accounts  # noqa: PLC0415

    with _reported():
        accounts = saved_accounts()
        if as_json:
            _emit_json(accounts)
            return
        if not accounts:
            click.echo(f"no saved accounts ({config_path()})")
            return
        click.echo(
            _table(
                [
                    [name, a["url"] or "(vendor cloud)", a["token"] or ""]
                    for name, a in sorted(accounts.items())
                ],
                ["name", "url", "token"],
            )
        )


if __name__ == "__main__":
    main()
