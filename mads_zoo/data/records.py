"""The MIT-BIH Arrhythmia Database's records and the AAMI class of each beat symbol."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# fmt: off
#: de Chazal et al. (2004) training records (DS1).
DS1: tuple[str, ...] = (
    "101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122",
    "124", "201", "203", "205", "207", "208", "209", "215", "220", "223", "230",
)
#: de Chazal et al. (2004) test records (DS2).
DS2: tuple[str, ...] = (
    "100", "103", "105", "111", "113", "117", "121", "123", "200", "202", "210",
    "212", "213", "214", "219", "221", "222", "228", "231", "232", "233", "234",
)
# fmt: on
#: Records with a pacemaker, left out of the inter-patient protocol.
PACED: tuple[str, ...] = ("102", "104", "107", "217")
#: All 48 records of mitdb, in numeric order.
MITDB_RECORDS: tuple[str, ...] = tuple(sorted(DS1 + DS2 + PACED))
#: Files of one record: header, signals (format 212), reference annotations.
RECORD_EXTENSIONS: tuple[str, ...] = (".hea", ".dat", ".atr")

#: AAMI EC57 class of each beat annotation symbol (labels index ``AAMI_CLASSES``:
#: N=0 S=1 V=2 F=3 Q=4). Symbols not listed here are not beats of any class.
AAMI_LABEL: Mapping[str, int] = MappingProxyType(
    {
        **dict.fromkeys("NLRej", 0),  # normal, bundle branch blocks, escapes
        **dict.fromkeys("AaJS", 1),  # supraventricular ectopic
        **dict.fromkeys("VE", 2),  # ventricular ectopic
        "F": 3,  # fusion of ventricular and normal
        **dict.fromkeys("/fQ", 4),  # paced, fusion of paced and normal, unclassifiable
    }
)

#: Every annotation symbol that marks a QRS complex or ventricular wave (used for RR intervals):
#: the AAMI beats plus B, r, n, ? and the ventricular flutter waves '!'.
QRS_SYMBOLS: frozenset[str] = frozenset(AAMI_LABEL) | frozenset("Brn?!")
