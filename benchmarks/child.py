"""Run one command and write its wall time, CPU time and peak RSS as JSON: `child.py OUT -- CMD...`.

Why a separate small process: Linux carries a process's peak RSS across fork + exec, so a child
started straight from the benchmark (hundreds of MB after reading sandbox states) would report the
benchmark's memory, not its own. Forked from this small process, the figure is the command's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    out_path, command = argv[0], argv[2:] if argv[1:2] == ["--"] else argv[1:]
    started = time.monotonic()
    proc = subprocess.Popen(command)
    _, status, usage = os.wait4(proc.pid, 0)
    figures = {
        "exit_code": os.waitstatus_to_exitcode(status),
        "wall_s": time.monotonic() - started,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "max_rss_mb": usage.ru_maxrss / 1024,  # Linux reports KiB
    }
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(figures, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
