"""Result format 2: per-shot memory travels packed (BitArray's bytes, base64).

The client reads both formats; the emulator answers a client before API 1.4 in the old
one (hex memory, counts on every row).
"""

from __future__ import annotations

import base64
import json
import pickle
from typing import Any

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import ClassicalRegister, QuantumRegister
from qiskit.primitives import BackendSamplerV2

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider import job as job_module
from qiskit_vendor_provider.api.models import JobResult
from qiskit_vendor_provider.api.shots import (
    PackedCounts,
    PackedMemory,
    counts_of,
    decode_packed,
    encode_packed,
    hex_memory,
    pack_hex,
)
from qiskit_vendor_provider.api.versions import API_VERSION_HEADER
from qiskit_vendor_provider.emulator import Emulator, create_app
from qiskit_vendor_provider.emulator.transport import dispatch
from qiskit_vendor_provider.errors import VendorJobError
from qiskit_vendor_provider.primitives import VendorSampler
from qiskit_vendor_provider.serialization import to_qiskit_result
from tests.conftest import MOCK_URL, MockedApi

# What a server before API 1.4 answered: no result_format, hex memory, counts always.
OLD_FORMAT_ANSWER = {
    "job_id": "old-1",
    "device": "ideal_simulator",
    "status": "DONE",
    "success": True,
    "results": [
        {
            "header": {"name": "bell", "creg_sizes": [["c", 2]], "memory_slots": 2},
            "shots": 3,
            "success": True,
            "data": [{"counts": {"0x0": 1, "0x3": 2}, "memory": ["0x3", "0x0", "0x3"]}],
        }
    ],
}


def _packed_answer(packed_memory: str) -> JobResult:
    """The old answer's program in format 2: its three 2-clbit shots as ``packed_memory``."""
    program = {**OLD_FORMAT_ANSWER["results"][0], "num_clbits": 2}
    program["data"] = [{"packed_memory": packed_memory}]
    return JobResult.model_validate({**OLD_FORMAT_ANSWER, "result_format": 2, "results": [program]})


@pytest.mark.parametrize("num_bits", [1, 5, 8, 9, 20, 63, 64, 65, 70])
def test_packing_round_trips_and_matches_bitarray_layout(num_bits: int) -> None:
    rng = np.random.default_rng(num_bits)
    values = [int(rng.integers(0, 2**62)) % (1 << num_bits) for _ in range(50)]
    values.append((1 << num_bits) - 1)
    memory = [hex(value) for value in values]
    packed = pack_hex(memory, num_bits)
    assert packed.shape == (len(values), -(-num_bits // 8))
    # Read through the counts' keys (the emulator's path), or with one key missing
    # (read as usual): the same rows.
    counts = {key: memory.count(key) for key in memory}
    assert (pack_hex(memory, num_bits, outcomes=counts) == packed).all()
    assert (pack_hex(memory, num_bits, outcomes=list(counts)[1:]) == packed).all()
    # BitArray's layout: each shot's integer, big-endian, in ceil(bits/8) bytes.
    assert packed[-1].tobytes() == values[-1].to_bytes(packed.shape[1], "big")
    text = encode_packed(packed)
    assert len(base64.b64decode(text)) == len(values) * -(-num_bits // 8)
    decoded = decode_packed(text, shots=len(values), num_bits=num_bits)
    assert hex_memory(decoded) == memory
    assert counts_of(decoded) == {key: memory.count(key) for key in set(memory)}


def test_a_shot_wider_than_its_clbits_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit in its 3 clbits"):
        pack_hex(["0x8"], 3)
    with pytest.raises(ValueError, match="does not fit in its 3 clbits"):
        pack_hex(["0x8", "0x1"], 3, outcomes=["0x1", "0x8"])
    with pytest.raises(ValueError, match="does not fit in its 64 clbits"):
        pack_hex([hex(1 << 64)], 64, outcomes=[hex(1 << 64)])
    with pytest.raises(ValueError, match="does not fit in its 66 clbits"):
        pack_hex([hex(1 << 66)], 66)
    with pytest.raises(ValueError, match="2 shots of 9 clbits take 4"):
        decode_packed("AAU=", shots=2, num_bits=9)


def test_the_client_reads_an_old_servers_hex_result() -> None:
    answer = JobResult.model_validate(OLD_FORMAT_ANSWER)
    assert answer.result_format == 1
    result = to_qiskit_result(answer, backend_name="ideal_simulator", backend_version="1")
    assert result.get_counts() == {"00": 1, "11": 2}
    assert result.get_memory() == ["11", "00", "11"]
    assert result.data(0)["memory"] == ["0x3", "0x0", "0x3"]


def test_a_packed_result_reads_as_counts_and_hex_memory() -> None:
    answer = _packed_answer(encode_packed(pack_hex(["0x3", "0x0", "0x3"], 2)))
    result = to_qiskit_result(answer, backend_name="ideal_simulator", backend_version="1")
    data = result.data(0)
    assert isinstance(data["memory"], PackedMemory)
    assert type(data["counts"]) is dict  # a few shots: counted at once
    assert result.get_counts() == {"00": 1, "11": 2}
    assert result.get_memory() == ["11", "00", "11"]
    assert data["memory"] == ["0x3", "0x0", "0x3"] and data["counts"] == {"0x0": 1, "0x3": 2}
    again = pickle.loads(pickle.dumps(result))
    assert again.get_memory() == ["11", "00", "11"] and again.get_counts() == {"00": 1, "11": 2}


def test_a_packed_result_of_the_wrong_size_is_a_typed_error() -> None:
    answer = _packed_answer("AAA=")  # 2 bytes for 3 shots
    with pytest.raises(VendorJobError, match="packed memory has 2 bytes; 3 shots"):
        to_qiskit_result(answer, backend_name="x", backend_version="1")


def _result_answer(app: Any, job_id: str, api_version: str | None) -> dict[str, Any]:
    headers = {"Authorization": "Bearer unit-test-token-0123456789"}
    if api_version is not None:
        headers[API_VERSION_HEADER] = api_version
    status, _, body = dispatch(app, "GET", f"{MOCK_URL}/v1/jobs/{job_id}/result", headers, b"")
    assert status == 200, body
    answer: dict[str, Any] = json.loads(body)
    return answer


def test_the_emulator_packs_memory_for_new_clients_and_not_for_old_ones(
    provider: VendorProvider, api: MockedApi, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The result is read from its own route here, not from the submission's answer.
    monkeypatch.setattr(job_module, "SUBMIT_WAIT_SECONDS", None)
    backend = provider.get_backend("ideal_simulator")
    circuit = QuantumCircuit(QuantumRegister(3), ClassicalRegister(2, "a"), ClassicalRegister(9))
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 10])
    job = backend.run(circuit, shots=200, memory=True, seed_simulator=7)
    result = job.result()
    # The client's own request named 1.4: the answer it read was packed.
    answer = json.loads(api.calls("GET", f"/v1/jobs/{job.job_id()}/result")[-1].response.text)
    assert answer["result_format"] == 2
    row = answer["results"][0]["data"][0]
    assert "counts" not in row and "memory" not in row
    assert len(base64.b64decode(row["packed_memory"])) == 200 * 2  # 11 clbits: 2 bytes

    app = create_app(emulator)
    old = _result_answer(app, job.job_id(), "1.3")
    none = _result_answer(app, job.job_id(), None)  # a 1.0 client sends no version
    assert old == none and old["result_format"] == 1
    old_row = old["results"][0]["data"][0]
    assert "packed_memory" not in old_row
    assert old_row["memory"] == list(result.data(0)["memory"])
    assert old_row["counts"] == dict(result.data(0)["counts"])
    assert sum(old_row["counts"].values()) == 200
    # And what the old answer reads as, through the client, is the same Result.
    read_old = to_qiskit_result(
        JobResult.model_validate(old), backend_name="ideal_simulator", backend_version="1"
    )
    assert read_old.get_counts() == result.get_counts()
    assert read_old.get_memory() == result.get_memory()


def test_the_sampler_decodes_packed_memory_like_backend_sampler_v2(
    provider: VendorProvider,
) -> None:
    backend = provider.get_backend("ideal_simulator")
    registers = ClassicalRegister(2, "a"), ClassicalRegister(9, "b")
    circuit = QuantumCircuit(QuantumRegister(3), *registers)
    circuit.h([0, 1, 2])
    circuit.measure([0, 1, 2], [0, 1, 10])
    ours = VendorSampler(backend=backend).run([circuit], shots=300).result()[0]
    theirs = BackendSamplerV2(backend=backend).run([circuit], shots=300).result()[0]
    for name in ("a", "b"):
        assert ours.data[name].num_bits == theirs.data[name].num_bits
        assert ours.data[name].array.shape == theirs.data[name].array.shape
    # Same seed, same device: the same samples, bit for bit.
    seeded = VendorSampler(backend=backend, options={"seed_simulator": 5})
    generic = BackendSamplerV2(backend=backend, options={"seed_simulator": 5})
    first = seeded.run([circuit], shots=300).result()[0]
    second = generic.run([circuit], shots=300).result()[0]
    for name in ("a", "b"):
        assert np.array_equal(first.data[name].array, second.data[name].array)


def test_counts_of_a_very_large_row_are_counted_when_first_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from qiskit_vendor_provider.api import shots

    monkeypatch.setattr(shots, "EAGER_COUNTS_SHOTS", 2)
    answer = _packed_answer(encode_packed(pack_hex(["0x3", "0x0", "0x3"], 2)))
    result = to_qiskit_result(answer, backend_name="ideal_simulator", backend_version="1")
    counts = result.data(0)["counts"]
    assert isinstance(counts, PackedCounts)
    assert counts == {"0x0": 1, "0x3": 2} and result.get_counts() == {"00": 1, "11": 2}
