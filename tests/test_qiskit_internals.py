"""The private Qiskit names the primitives rely on: one test per name, and the fence.

``qiskit_vendor_provider.qiskit_internals`` is the only module allowed to use a
private Qiskit name. A Qiskit upgrade that changes one of them fails the test named after
it here; the other tests check that nothing else reaches into Qiskit's private API, and
that the parents' private flow (whose methods read fields of *their* options) never runs.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from qiskit import QuantumCircuit
from qiskit.primitives import (
    BackendEstimatorV2,
    BackendSamplerV2,
    BaseEstimatorV2,
    BaseSamplerV2,
    PrimitiveJob,
)
from qiskit.providers import JobError, JobStatus
from qiskit.transpiler import Target

import qiskit_vendor_provider
from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.primitives import VendorEstimator, VendorSampler
from qiskit_vendor_provider.qiskit_internals import append_unchecked, start_job
from tests.waiting import NEVER

PACKAGE = Path(qiskit_vendor_provider.__file__).parent
INTERNALS = PACKAGE / "qiskit_internals.py"
PARENTS = (BackendSamplerV2, BackendEstimatorV2, PrimitiveJob)
# Qiskit classes whose private methods the rest of the package must not call.
USED = (*PARENTS, QuantumCircuit, Target)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_members(cls: type) -> set[str]:
    """Private methods and properties of ``cls`` and its Qiskit bases (not ABC machinery)."""
    return {
        name
        for klass in cls.__mro__
        if klass.__module__.startswith("qiskit.")
        for name, member in vars(klass).items()
        if _private(name) and (callable(member) or isinstance(member, property))
    }


# --- PrimitiveJob._submit ---------------------------------------------------------------


def test_primitive_job_submit_runs_the_function_on_a_thread_and_returns_at_once() -> None:
    caller = threading.current_thread()
    started = threading.Event()
    release = threading.Event()
    ran_on: list[threading.Thread] = []

    def work(value: int) -> int:
        ran_on.append(threading.current_thread())
        started.set()
        if threading.current_thread() is not caller:
            # Held until the test has seen the job running. (Run in the caller's thread,
            # it returns at once, so that a broken _submit fails the checks below
            # instead of hanging the test.)
            assert release.wait(NEVER)
        return value * 2

    job: PrimitiveJob[int] = PrimitiveJob(work, 21)
    assert start_job(job) is job
    assert started.wait(NEVER), "the function never ran"
    assert ran_on[0] is not caller  # on a thread of its own
    # Started and held: running, not done (a _submit that ran the function in this
    # thread, or not at all, would leave it done or not started).
    assert job.status() is JobStatus.RUNNING
    release.set()
    assert job.result() == 42
    assert ran_on == ran_on[:1]  # run once
    assert job.status() is JobStatus.DONE
    with pytest.raises(JobError):  # a job starts once
        start_job(job)


# --- the fence -----------------------------------------------------------------------


def _is_qiskit(module: str) -> bool:
    return module.split(".", maxsplit=1)[0] in ("qiskit", "qiskit_aer")


def _private_qiskit_uses(path: Path, private_names: set[str]) -> list[str]:
    """Imports of private Qiskit names, and attribute reads of the parents' private ones."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _is_qiskit(node.module or ""):
            module = node.module or ""
            if any(_private(part) for part in module.split(".")):
                found.append(f"{path.name}:{node.lineno} from {module}")
            found += [
                f"{path.name}:{node.lineno} import {alias.name}"
                for alias in node.names
                if _private(alias.name)
            ]
        elif isinstance(node, ast.Import):
            found += [
                f"{path.name}:{node.lineno} import {alias.name}"
                for alias in node.names
                if _is_qiskit(alias.name) and any(_private(part) for part in alias.name.split("."))
            ]
        elif isinstance(node, ast.Attribute) and node.attr in private_names:
            found.append(f"{path.name}:{node.lineno} .{node.attr}")
    return found


def test_no_module_but_the_internals_one_uses_a_private_qiskit_name() -> None:
    # Our own private names may coincide with Qiskit's (_options, _backend are set by
    # the primitives and their parents alike); what must not appear is a private
    # *method or class* of Qiskit's.
    ours = {"_options", "_backend"}
    private_names = set().union(*(_private_members(cls) for cls in USED)) - ours
    assert {"_submit", "_postprocess_pub", "_append"} <= private_names
    offenders = [
        use
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != INTERNALS
        for use in _private_qiskit_uses(path, private_names)
    ]
    assert offenders == []
    uses = [use.split(" ", 1)[1] for use in _private_qiskit_uses(INTERNALS, private_names)]
    assert uses == ["._submit", "._append"]


# --- QuantumCircuit._append -------------------------------------------------------------


def test_append_unchecked_adds_the_instruction_as_it_is_and_tracks_its_parameters() -> None:
    from qiskit.circuit import CircuitInstruction, Parameter
    from qiskit.circuit.library import CXGate, RZGate

    theta = Parameter("theta")
    circuit = QuantumCircuit(2)
    append_unchecked(circuit, CircuitInstruction(RZGate(theta), (circuit.qubits[1],), ()))
    append_unchecked(circuit, CircuitInstruction(CXGate(), tuple(circuit.qubits), ()))
    reference = QuantumCircuit(2)
    reference.rz(theta, 1)
    reference.cx(0, 1)
    assert circuit == reference
    assert list(circuit.parameters) == [theta]  # bindable: the sweep path relies on it
    assert circuit.assign_parameters({theta: 0.5}).data[0].operation.params == [0.5]


@pytest.mark.parametrize(
    ("ours", "parent"),
    [(VendorSampler, BackendSamplerV2), (VendorEstimator, BackendEstimatorV2)],
)
def test_the_primitives_override_no_private_method_of_their_parent(
    ours: type, parent: type
) -> None:
    assert issubclass(ours, parent)
    overridden = {
        name
        for klass in ours.__mro__
        if klass.__module__.startswith("qiskit_vendor_provider")
        for name in vars(klass)
        if _private(name)
    } & _private_members(parent)
    assert overridden == set()


def _refuse(name: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"the parent's private {name} ran")

    return refuse


def test_the_parents_private_flow_never_runs(
    provider: VendorProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The parents' methods read fields of their own options dataclass (abelian_grouping,
    # seed_simulator, run_options...): if none of them runs, no field name of ours has
    # to coincide with theirs.
    for parent in (BackendSamplerV2, BackendEstimatorV2):
        for name, member in vars(parent).items():
            if _private(name) and callable(member):
                monkeypatch.setattr(parent, name, _refuse(f"{parent.__name__}.{name}"))
    backend = provider.get_backend("ideal_simulator")
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    estimator = VendorEstimator(backend=backend, options={"seed_simulator": 1})
    evs = estimator.run([(circuit, ["ZZ", "XX", "II"])], precision=0.05).result()[0].data.evs
    assert evs.tolist() == [1.0, 1.0, 1.0]
    circuit.measure_all()
    sampler = VendorSampler(backend=backend, options={"seed_simulator": 1})
    job = sampler.run([circuit], shots=20)
    assert isinstance(job, PrimitiveJob)
    counts = job.result()[0].data.meas.get_counts()
    assert set(counts) <= {"00", "11"} and sum(counts.values()) == 20
    assert isinstance(sampler, BaseSamplerV2) and isinstance(estimator, BaseEstimatorV2)
