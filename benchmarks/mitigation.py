"""The measured table of docs/mitigation.md.

Run from the repository root: ``PYTHONPATH=. python benchmarks/mitigation.py``.

Ten seeds per row, equal total shots (32768 per estimate), errors against the
readout-free reference of :mod:`tests.test_mitigation`. Not a test: it takes ~1 minute.
"""

from __future__ import annotations

import numpy as np

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.emulator import (
    Emulator,
    EmulatorConfig,
    InProcessTransport,
    create_app,
)
from tests import test_mitigation as measured

CASES = [
    ("Bell <ZZ> on 13,14", measured.ghz(2), [13, 14], "ZZ"),
    ("GHZ-5 <Z^4> on 12,13,14,16", measured.ghz(5), [10, 12, 13, 14, 16], "ZZZZI"),
    ("GHZ-5 <Z^5> on 10,12,13,14,16", measured.ghz(5), [10, 12, 13, 14, 16], "ZZZZZ"),
]


def main(seeds: range = range(1, 11)) -> None:
    """Print one markdown row per case."""
    emulator = Emulator(EmulatorConfig(database=":memory:", poll_interval=0.05)).start()
    try:
        provider = VendorProvider(transport=InProcessTransport(create_app(emulator)))
        backend = provider.get_backend(measured.DEVICE)
        print(
            "| observable | readout-free reference | raw (mean) | mitigated (mean) "
            "| raw error | mitigated error | error ratio: worst, median |"
        )
        print("|---|---|---|---|---|---|---|")
        for name, circuit, layout, label in CASES:
            isa, observable = measured.isa(backend, circuit, layout, label)
            reference = measured.readout_free_reference(isa, observable)
            rows = []
            for seed in seeds:
                measured.SEED = seed
                raw, _, _ = measured.estimate(backend, isa, observable, mitigation=False)
                mitigated, _, _ = measured.estimate(backend, isa, observable, mitigation=True)
                rows.append((raw, mitigated, abs(raw - reference), abs(mitigated - reference)))
            table = np.array(rows)
            ratios = table[:, 2] / table[:, 3]
            print(
                f"| {name} | {reference:.3f} | {table[:, 0].mean():.3f} | "
                f"{table[:, 1].mean():.3f} | {table[:, 2].mean():.3f} | "
                f"{table[:, 3].mean():.3f} | {ratios.min():.1f}, {np.median(ratios):.1f} |"
            )
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
