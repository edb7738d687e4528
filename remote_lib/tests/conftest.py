import importlib.util
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.path.join(os.path.dirname(HERE), "nokube_remote.py")


@pytest.fixture(scope="session")
def lib():
    spec = importlib.util.spec_from_file_location("nokube_remote", LIB)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["nokube_remote"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def lib_path():
    return LIB
