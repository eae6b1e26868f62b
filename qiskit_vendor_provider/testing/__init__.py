"""Test helpers for code that uses this SDK: a pytest plugin with emulator-backed fixtures.

The plugin is registered under the ``pytest11`` entry point, so installing the package
makes its fixtures available to every test suite; see :mod:`.plugin`.
"""
