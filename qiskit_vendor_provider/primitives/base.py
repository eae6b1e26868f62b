"""What the vendor Sampler and Estimator share: the backend check and option handling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from qiskit_vendor_provider.backend import VendorBackend
from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.primitives.options import PrimitiveOptions
from qiskit_vendor_provider.primitives.preparation import CircuitPreparer
from qiskit_vendor_provider.session import ExecutionMode

__all__ = ["VendorPrimitiveMixin", "check_backend", "resolve_mode"]

OptionsT = TypeVar("OptionsT", bound=PrimitiveOptions)


def check_backend(backend: object, primitive: str) -> VendorBackend:
    """The backend, if it is a vendor device.

    Raises:
        VendorValidationError: anything else; the generic Qiskit wrapper is the right tool then.
    """
    if not isinstance(backend, VendorBackend):
        raise VendorValidationError(
            f"{primitive} runs on a VendorBackend (provider.get_backend(...)), not on "
            f"{type(backend).__name__}; use Qiskit's BackendSamplerV2/BackendEstimatorV2 for "
            "other backends"
        )
    return backend


def resolve_mode(
    backend: object, mode: object, primitive: str
) -> tuple[VendorBackend, ExecutionMode | None]:
    """The backend a primitive submits through, and its session or batch (if any).

    ``mode`` is what IBM Runtime's primitives take: a backend, a ``Session`` or a
    ``Batch``; ``backend=`` is the older spelling of a backend. With a session, the
    backend returned submits every job into it.

    Raises:
        VendorValidationError: both or neither given, or something else than those.
    """
    if (backend is None) == (mode is None):
        raise VendorValidationError(
            f"{primitive} takes one of backend= or mode= (a VendorBackend, Session or "
            f"Batch), not {'both' if backend is not None else 'neither'}; e.g. "
            f"{primitive}(mode=session)"
        )
    if isinstance(mode, ExecutionMode):
        return check_backend(mode.bound_backend, primitive), mode
    return check_backend(mode if backend is None else backend, primitive), None


def initial_options(
    model: type[OptionsT],
    given: Mapping[str, Any] | OptionsT | None,
    device_defaults: Mapping[str, Any],
) -> OptionsT:
    """Options from the constructor argument, with the device's defaults under them."""
    if isinstance(given, PrimitiveOptions):
        if not isinstance(given, model):
            raise VendorValidationError(
                f"options must be a dict or {model.__name__}, not {type(given).__name__}"
            )
        return given.copied()  # type: ignore[return-value]
    if given is not None and not isinstance(given, Mapping):
        raise VendorValidationError(
            f"options must be a dict or {model.__name__}, not {type(given).__name__}"
        )
    return model(**{**device_defaults, **dict(given or {})})


class VendorPrimitiveMixin(Generic[OptionsT]):
    """Option handling shared by :class:`VendorSampler` and :class:`VendorEstimator`."""

    _options: OptionsT
    _preparer: CircuitPreparer
    _backend: VendorBackend

    @property
    def options(self) -> OptionsT:
        """The options (assigning to a field validates the new value)."""
        return self._options

    _session: ExecutionMode | None = None

    @property
    def backend(self) -> VendorBackend:
        """The device this primitive runs on."""
        return self._backend

    @property
    def mode(self) -> VendorBackend | ExecutionMode:
        """The session or batch the primitive's jobs run in, else its backend."""
        return self._backend if self._session is None else self._session

    @property
    def _session_id(self) -> str | None:
        """The id of the session or batch the jobs run in (part of each request)."""
        return None if self._session is None else self._session.session_id

    def set_options(self, **fields: Any) -> None:
        """Change options; all are validated before any takes effect.

        Raises:
            VendorValidationError: an unknown name (the message lists the valid ones) or a
                bad value.
        """
        options = self._options.updated(fields)
        # Building the pass manager now makes a bad transpile option fail here, not in run().
        self._preparer.pass_manager(options)
        self._options = options  # type: ignore[assignment]

    def set_transpile_options(self, **fields: Any) -> None:
        """Change keywords of the preset pass manager (``seed_transpiler``, ``layout_method``...).

        They are merged into ``options.transpile_options``; see
        :data:`~qiskit_vendor_provider.primitives.options.TRANSPILE_OPTION_NAMES`.

        Raises:
            VendorValidationError: an unknown keyword (the message lists the valid ones) or a
                value the pass manager does not accept.
        """
        self.set_options(transpile_options={**self._options.transpile_options, **fields})

    @property
    def transpile_options(self) -> dict[str, Any]:
        """The keywords given to the preset pass manager (a copy)."""
        return dict(self._options.transpile_options)
