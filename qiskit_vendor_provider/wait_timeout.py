"""The one check of a wait's ``timeout`` argument (``job.result``, ``wait_for_final_state``).

>>> check_wait_timeout(5), check_wait_timeout(0.5), check_wait_timeout(None)
(5.0, 0.5, None)
>>> check_wait_timeout(float("inf")) is None  # no bound, as None
True
>>> check_wait_timeout("5")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
qiskit_vendor_provider.errors.VendorValidationError: timeout='5' is a str; give a number...
"""

from __future__ import annotations

import math
import numbers

from qiskit_vendor_provider.errors import VendorValidationError

__all__ = ["check_wait_timeout"]


def check_wait_timeout(value: object, what: str = "timeout") -> float | None:
    """``value`` as seconds to wait at the most, or None for no bound.

    Args:
        value: An int or a float (numpy's included) >= 0, ``math.inf`` or None.
        what: The argument's name, for the message.

    Returns:
        The seconds as a float; None for None or infinity (wait as long as it takes).

    Raises:
        VendorValidationError: a bool, a string or another type; NaN; a negative number.
    """
    if value is None:
        return None
    fix = f"give a number of seconds >= 0 (e.g. {what}=5), or None to wait as long as it takes"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise VendorValidationError(f"{what}={value!r} is a {type(value).__name__}; {fix}")
    seconds = float(value)
    if math.isnan(seconds) or seconds < 0:
        raise VendorValidationError(f"{what}={value!r} is not a number of seconds >= 0; {fix}")
    return None if math.isinf(seconds) else seconds
