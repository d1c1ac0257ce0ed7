"""The solution notebooks are run by nbval (``make test``). There a failing ``check(...)`` must fail
the test, not only print FAIL: strict mode makes it raise (see ``rnncourse.grading.checks``).

Only while a solution notebook's cells run (its kernel inherits the variable when it starts): the
rest of the suite runs in the same session, in random order, and must not see it."""

import os

import pytest

_VAR = "RNNCOURSE_STRICT_CHECKS"
_saved = {}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _saved[item.nodeid] = os.environ.get(_VAR)
    os.environ[_VAR] = "1"


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    old = _saved.pop(item.nodeid, None)
    if old is None:
        os.environ.pop(_VAR, None)
    else:
        os.environ[_VAR] = old
