"""The commands, one small module each: parse the options, call reconcile.run, print the outcome.

reconcile.cli maps command names to these modules and imports one only when it runs. A command
imports reconcile.commands.common and the library, never another command and never reconcile.cli.
"""

from __future__ import annotations
