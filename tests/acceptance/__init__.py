"""Acceptance tests: the `xlt` command a user installs. A package, so that its conftest is `acceptance.conftest`
and does not take the module name `conftest` from tests/conftest.py, which tests import helpers from."""
