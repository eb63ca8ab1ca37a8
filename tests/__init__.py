"""The test suite. What several test modules share lives in `tests.support`; its plain `assert`
statements get pytest's detailed failure messages as in test modules."""

import pytest

pytest.register_assert_rewrite("tests.support")
