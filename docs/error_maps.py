"""Draw two calibrations of ``superconducting_27q`` side by side with ``plot_error_map``.

Left: the calibration the device file ships. Right: the calibration served for 14 days
earlier (``backend.properties(datetime=...)``), drifted, with qubit 7 and the ECR
couplers (0, 1) and (1, 4) marked out of service, as a device file would mark them.
The right-hand device is a variant written to a temporary directory and served by an
emulator beside the shipped devices: its Target leaves the faulty elements out, so the
map has no edge for them; the faulty qubit is drawn grey (``plot_error_map`` itself
would colour it as error-free, since it reads only what the Target has, and its readout
bar is empty for the same reason).

Regenerate the picture of ``docs/devices.md`` (needs the ``examples`` extra, matplotlib
and seaborn, and Graphviz's ``neato``, e.g. ``apt-get install graphviz``)::

    python docs/error_maps.py docs/_static/error_maps.png
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
from qiskit.visualization import gate_map, plot_error_map

from qiskit_vendor_provider import VendorBackend, VendorProvider
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, InProcessTransport, create_app
from qiskit_vendor_provider.emulator.catalog import builtin_device_dir

DEVICE = "superconducting_27q"
VARIANT = "superconducting_27q_faulty"
FAULTY_QUBITS = (7,)
FAULTY_COUPLERS = ((0, 1), (1, 4))
DAYS_EARLIER = 14
FAULTY_GREY = "#b0b0b0"


def heavy_hex_27() -> list[list[int]]:
    """``[row, column]`` of each qubit of the 27-qubit heavy-hex lattice, as drawn.

    Two rows of nine (1, 4, ..., 23 above; 3, 5, ..., 25 below), joined by 2, 13 and
    24; 0 and 26 at the ends; 6 and 17 above, 9 and 20 below. Without coordinates
    ``plot_error_map`` lets Graphviz place the qubits, which loses the lattice's shape.
    """
    places = {0: (1, 0), 26: (3, 10), 2: (2, 1), 13: (2, 5), 24: (2, 9)}
    places |= {6: (0, 3), 17: (0, 7), 9: (4, 3), 20: (4, 7)}
    for column, qubit in enumerate((1, 4, 7, 10, 12, 15, 18, 21, 23), start=1):
        places[qubit] = (1, column)
    for column, qubit in enumerate((3, 5, 8, 11, 14, 16, 19, 22, 25), start=1):
        places[qubit] = (3, column)
    return [list(places[qubit]) for qubit in range(27)]


def variant_spec(shipped: VendorBackend) -> dict[str, Any]:
    """The shipped device file, with the older calibration and the faulty flags."""
    spec: dict[str, Any] = json.loads((builtin_device_dir() / f"{DEVICE}.json").read_text())
    current = shipped.properties()
    assert current is not None
    older = shipped.properties(datetime=current.last_update_date - timedelta(days=DAYS_EARLIER))
    assert older is not None
    calibration = older.to_dict()
    del calibration["backend_name"]
    for qubit in FAULTY_QUBITS:
        calibration["qubits"][qubit]["operational"] = False
    for gate in calibration["gates"]:
        if tuple(gate["qubits"]) in FAULTY_COUPLERS:
            gate["operational"] = False
    # The history keeps no couplings (ZZ); the drawing does not show them anyway.
    spec.update(name=VARIANT, calibration=calibration)
    return spec


@contextmanager
def greyed_out(qubits: tuple[int, ...]) -> Iterator[None]:
    """While it lasts, the qubit map ``plot_error_map`` draws shows ``qubits`` grey.

    ``plot_error_map`` colours each qubit by the errors the Target has for it, and a
    faulty qubit has none (it is left out): it would look perfect. Its colours are
    handed to ``plot_gate_map``, which is where this replaces them.
    """
    original = gate_map.plot_gate_map

    def plot(backend: Any, *args: Any, qubit_color: Any = None, **kwargs: Any) -> Any:
        colors = list(qubit_color) if qubit_color is not None else None
        for qubit in qubits if colors is not None else ():
            colors[qubit] = FAULTY_GREY  # type: ignore[index]
        return original(backend, *args, qubit_color=colors, **kwargs)

    gate_map.plot_gate_map = plot
    try:
        yield
    finally:
        gate_map.plot_gate_map = original


def error_map_image(backend: VendorBackend, faulty_qubits: tuple[int, ...]) -> Any:
    """``plot_error_map`` of ``backend`` as an image array, faulty qubits grey."""
    with greyed_out(faulty_qubits):
        figure = plot_error_map(backend, figsize=(12, 10), qubit_coordinates=heavy_hex_27())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(figure)
    buffer.seek(0)
    return mpimg.imread(buffer, format="png")


def main() -> None:
    """Write the side-by-side picture to the path given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        emulator = Emulator(EmulatorConfig(database=":memory:")).start()
        try:
            provider = VendorProvider(transport=InProcessTransport(create_app(emulator)))
            spec = variant_spec(provider.get_backend(DEVICE))
        finally:
            emulator.stop()
        (Path(directory) / f"{VARIANT}.json").write_text(json.dumps(spec))
        dirs = (builtin_device_dir(), Path(directory))
        emulator = Emulator(EmulatorConfig(database=":memory:", device_dirs=dirs)).start()
        try:
            provider = VendorProvider(transport=InProcessTransport(create_app(emulator)))
            faulty = provider.get_backend(VARIANT)
            left = error_map_image(provider.get_backend(DEVICE), ())
            right = error_map_image(faulty, tuple(faulty.faulty_qubits()))
        finally:
            emulator.stop()
    figure, axes = plt.subplots(1, 2, figsize=(20, 9))
    titles = (
        "The shipped calibration",
        f"{DAYS_EARLIER} days earlier (drifted), with qubit 7 and\n"
        "couplers 0-1 and 1-4 out of service (grey qubit, missing edges)",
    )
    for ax, image, title in zip(axes, (left, right), titles, strict=True):
        ax.imshow(image)
        ax.set_title(title, fontsize=15)
        ax.axis("off")
    figure.tight_layout()
    figure.savefig(args.output, dpi=80, bbox_inches="tight", pad_inches=0.2)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
