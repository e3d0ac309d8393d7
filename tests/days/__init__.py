"""Issue #16's day fuzzer: seeded random trading days (generator.py) replayed through the
product in-process (runner.py → hedging.services.replay) and judged by an independent
checker written from docs/hedging-rules.md alone (checker.py: stdlib only, imports
nothing from the project).

    bin/fuzz-days [--days 300] [--seed 1] [--jobs 2]      # summary, failing days, exit 1 on any finding
    bin/fuzz-days --seed 1234 --days 1 --show             # one day: scenario, result, findings
    bin/fuzz-days --days 300 --dump /tmp/days             # every day's scenario/result/findings as JSON
    bin/test tests/days                                   # checker unit tests, samples, the 300-day test

bin/fuzz-days uses DATABASE_URL (default a database of its own, autohedge_fuzz, created
and migrated on start); PYTHON may name an interpreter with the requirements installed.
"""
