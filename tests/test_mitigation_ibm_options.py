"""Every leaf of qiskit-ibm-runtime's SamplerV2/EstimatorV2 option tree is taken or refused.

The leaves are read from the installed ``qiskit_ibm_runtime.options`` dataclasses, and
the values tried from each leaf's type annotation, so an option IBM adds later is
covered without editing this file. A leaf is *taken* when setting it changes what the
primitive would send (the planned jobs, their settings) or the logger it sets; it is
*refused* when setting it raises ``VendorValidationError`` naming it. A taken leaf must
act: the values we take cannot all plan the same jobs as the defaults, unless only one
value is taken (the one that changes nothing, such as ``init_qubits=True``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import types
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.quantum_info import SparsePauliOp

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.primitives import VendorEstimator, VendorSampler
from qiskit_vendor_provider.primitives.estimator import _default_precision

runtime_options = pytest.importorskip("qiskit_ibm_runtime.options")

_OTHER = object()  # a value for an annotation we cannot read: a model, a noise model


def _leaves(instance: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for field in dataclasses.fields(instance):
        if field.name.startswith("_"):
            continue
        value = getattr(instance, field.name)
        if dataclasses.is_dataclass(value):
            yield from _leaves(value, f"{prefix}{field.name}.")
        else:
            yield f"{prefix}{field.name}", field.type


def _candidates(annotation: Any) -> list[Any]:
    """Values to try for an annotation: each literal, both flags, a number, a sequence."""
    if isinstance(annotation, str):
        return [True, 2, "x", _OTHER]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return list(args)
    if origin in (typing.Union, types.UnionType):
        return [value for arg in args for value in _candidates(arg)]
    if annotation is bool:
        return [True, False]
    if annotation is int:
        return [3]
    if annotation is float:
        return [0.05]
    if annotation is type(None):
        return []
    name = getattr(annotation, "__name__", "")
    if name == "UnsetType":
        return []
    if origin in (list, tuple) or name in ("Sequence", "list"):
        inner = args[0] if args else float
        if inner is int:
            return [[1, 2]]
        if inner is str:
            return [["tag"]]
        literal = _candidates(inner)
        if literal and all(isinstance(v, str) for v in literal):
            return [tuple(literal[:2])]
        return [(1.0, 2.0, 3.0)]
    if origin is dict or annotation is dict:
        return [{"key": 1}]
    return [_OTHER]


def _set(options: Any, path: str, value: Any) -> None:
    *groups, leaf = path.split(".")
    for group in groups:
        options = getattr(options, group)
    setattr(options, leaf, value)


@pytest.fixture(scope="module")
def backend() -> Any:
    return VendorProvider().get_backend("superconducting_27q")


@pytest.fixture(scope="module")
def circuit(backend: Any) -> QuantumCircuit:
    logical = QuantumCircuit(3, 3)
    logical.h(0)
    logical.cx(0, 1)
    logical.cx(1, 2)
    logical.cx(1, 2)
    logical.measure(range(3), range(3))
    return transpile(logical, backend=backend, initial_layout=[0, 1, 4], seed_transpiler=1)


def _fingerprint(primitive: Any, circuit: QuantumCircuit) -> str:
    options = primitive._current_options()
    if isinstance(primitive, VendorEstimator):
        bare = circuit.remove_final_measurements(inplace=False)
        observable = SparsePauliOp("ZZZ").apply_layout(bare.layout)
        # The precision the options choose (default_precision, or default_shots).
        pubs = [EstimatorPub.coerce((bare, observable), _default_precision(options))]
    else:
        pubs = [SamplerPub.coerce(circuit, options.default_shots)]
    work = primitive._plan(pubs, options)
    digest = hashlib.sha256()
    for plan in work.plans:
        digest.update(
            json.dumps([p.program().model_dump(mode="json") for p in plan.programs]).encode()
        )
        digest.update(repr((plan.shots, plan.seed)).encode())
    digest.update(repr(sorted(work.settings.items())).encode())
    digest.update(repr(logging.getLogger("qiskit_vendor_provider").level).encode())
    return digest.hexdigest()


@pytest.mark.parametrize(
    ("primitive", "ibm_options"),
    [(VendorEstimator, "EstimatorOptions"), (VendorSampler, "SamplerOptions")],
    ids=["estimator", "sampler"],
)
def test_every_ibm_option_is_taken_and_acts_or_is_refused_by_name(
    backend: Any, circuit: QuantumCircuit, primitive: Any, ibm_options: str
) -> None:
    logger = logging.getLogger("qiskit_vendor_provider")
    level = logger.level
    leaves = list(_leaves(getattr(runtime_options, ibm_options)()))
    assert len(leaves) > 20  # the tree was read, not a stub
    # Seeded through run_options, which every IBM spelling of a seed overrides. Some
    # options act only with others (seed_estimator with gate twirling): each leaf is
    # tried on the defaults, with DD on and at resilience levels 2 and 0; it must act on one.
    seeded = {"run_options": {"seed_simulator": 5}}
    bases = [seeded, {**seeded, "dynamical_decoupling": {"enable": True}}]
    if primitive is VendorEstimator:
        bases += [{**seeded, "resilience_level": 2}, {**seeded, "resilience_level": 0}]
    else:  # the Sampler twirls only when asked: strategy and the counts act then
        bases += [{**seeded, "twirling": {"enable_gates": True, "enable_measure": True}}]
    try:
        defaults = [_fingerprint(primitive(backend=backend, options=b), circuit) for b in bases]
        for path, annotation in leaves:
            acts = False
            taken: set[str] = set()
            refused = []
            messages: list[tuple[str, Any, str]] = []
            for base, default in zip(bases, defaults, strict=True):
                prints = {default}
                for value in _candidates(annotation):
                    instance = primitive(backend=backend, options=base)
                    logger.setLevel(level)
                    try:
                        _set(instance.options, path, value)
                        prints.add(_fingerprint(instance, circuit))
                        taken.add(repr(value))
                    except VendorValidationError as exc:
                        messages.append((path, value, str(exc)))
                        refused.append(value)
                acts = acts or len(prints) >= 2
            assert taken or refused, path
            for where, value, message in messages:
                # Refused by name: the message names the option that was refused.
                assert where.split(".")[-1] in message, (where, value, message)
            if len(taken) > 1 or (taken and not refused):
                assert acts, f"{path}: taken {sorted(taken)} but changes nothing"
    finally:
        logger.setLevel(level)
