"""The exit codes of every `azsecmap` command, named in one place."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Named exit codes: 0 ok, 1 findings over the threshold, 2 usage or input error."""

    OK = 0
    FINDINGS = 1
    INPUT_ERROR = 2
