import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def demo_burst():
    from burstdeblur.runtime.demo_burst import make_demo_burst

    return make_demo_burst(n=6, seed=3)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
