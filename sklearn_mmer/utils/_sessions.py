"""Session numbers parsed from IEMOCAP-style ids (``Ses01F_impro01_F000`` -> 1)."""

import re

import numpy as np

_SESSION_ID = re.compile(r"^Ses(\d+)")


def parse_session(text):
    """The session number of an IEMOCAP-style id (``"Ses03M_..."`` -> 3), or None."""
    match = _SESSION_ID.match(str(text))
    return None if match is None else int(match.group(1))


def parse_sessions(*candidates):
    """Session numbers of the first sequence of ids that parses in full, or None.

    Each candidate is a sequence of ids (utterance ids, speaker ids, ...); the
    first non-empty one whose every id has the IEMOCAP form gives the sessions,
    as an int array.
    """
    for values in candidates:
        sessions = [parse_session(v) for v in values]
        if sessions and None not in sessions:
            return np.asarray(sessions)
    return None
