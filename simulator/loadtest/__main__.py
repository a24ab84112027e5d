"""``python -m simulator.loadtest SCENARIO --host URL ...``: the same as ``archsim loadtest``."""

from simulator.loadtest.cli import main

main()
