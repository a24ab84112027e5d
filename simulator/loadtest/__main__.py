"""``python -m simulator.loadtest SCENARIO --host URL ...``: the same as ``archsim loadtest``,
usable before (or without) the command being registered on the main app."""

import sys

from simulator.cli import app, main
from simulator.loadtest.cli import loadtest, register

if not any(command.callback is loadtest for command in app.registered_commands):
    register(app)
sys.argv[1:1] = ["loadtest"]
main()
