"""Arguments of IBM's job listings that this package does not take: refused by name.

Code written for ``IBMQBackend.jobs()`` (qiskit-ibmq-provider) or
``QiskitRuntimeService.jobs()`` passes arguments such as ``db_filter`` and
``experiment_id``. Python's own ``TypeError`` ("unexpected keyword argument") says
neither that the argument is known nor what to use instead; :func:`refuse_arguments`
does both, as a :class:`~qiskit_vendor_provider.errors.VendorValidationError`.

>>> def jobs(limit=10, job_tags=None, **rest): refuse_arguments(rest, jobs)
>>> jobs(db_filter={"name": "x"})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
qiskit_vendor_provider.errors.VendorValidationError: jobs(db_filter=...) is not supported...
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from qiskit_vendor_provider.errors import VendorValidationError

__all__ = ["IBM_LISTING_ARGUMENTS", "refuse_arguments"]

IBM_LISTING_ARGUMENTS: dict[str, str] = {
    "db_filter": (
        "the vendor API has no query language; filter with this method's arguments "
        "instead: status=, job_name= (a regular expression), start_datetime= and "
        "end_datetime=, job_tags= with job_tags_operator="
    ),
    "experiment_id": (
        "the vendor API has no experiments; tag an experiment's jobs when you run them "
        "(backend.run(..., job_tags=['my-experiment'])) and list them with "
        "job_tags=['my-experiment']"
    ),
    "pending": "use status=['QUEUED', 'RUNNING'] (or backend.active_jobs()) for pending jobs",
    "created_after": "use start_datetime=",
    "created_before": "use end_datetime=",
    "backend": "use backend_name= (a device name), or backend.jobs()",
    "program_id": "the vendor API runs no programs; every job is a circuit job",
    "instance": "the vendor API has no instances: your token names the account",
}
"""IBM's listing arguments this package does not take, and what to use instead."""


def refuse_arguments(given: Mapping[str, Any], method: Callable[..., Any]) -> None:
    """Raise for any argument in ``given`` (a ``**kwargs`` of ``method``); do nothing if empty.

    Args:
        given: The keyword arguments ``method`` did not declare.
        method: The method that received them, whose declared arguments the message
            lists for a name that is not one of IBM's.

    Raises:
        VendorValidationError: naming the first argument, and what to use instead.
    """
    if not given:
        return
    name = sorted(given)[0]
    where = f"{method.__name__}({name}=...)"
    if name in IBM_LISTING_ARGUMENTS:
        raise VendorValidationError(f"{where} is not supported: {IBM_LISTING_ARGUMENTS[name]}")
    accepted = [
        parameter.name
        for parameter in inspect.signature(method).parameters.values()
        if parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL)
        and parameter.name != "self"
    ]
    close = difflib.get_close_matches(name, accepted, n=1)
    hint = f" Did you mean {close[0]}=?" if close else ""
    raise VendorValidationError(
        f"{where}: {method.__name__}() has no argument {name!r}.{hint} Its arguments: "
        f"{', '.join(accepted)}"
    )
