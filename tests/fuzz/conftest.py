"""The fuzzing suite: Hypothesis drives hostile input into every edge a stranger can reach (the
gateway's request handling, the command API's frames, the BPMN parser, FEEL) and checks that only
the documented errors come out and the broker keeps serving.

The normal test run tries a bounded number of examples per target (``FUZZ_EXAMPLES``, default 40).
A long run, outside the suite, from one command:

    FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/fuzz

(``--hypothesis-seed=N`` repeats a run; a failure is shrunk and printed as the smallest input.)
The fuzz tests set their own settings, so other property tests keep Hypothesis' defaults.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))

fuzz_settings = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture,
                           HealthCheck.filter_too_much],
)
