"""Canonical text form of row values; the Python twin of canonical.ts.

Both sides of the Delta interop suite compare rows as lists of these strings, so no client's own
number or time formatting is trusted.
"""

import datetime
import decimal
import json
import math

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def kind_of(delta_type):
    """Maps a Delta primitive type name to the comparison kind."""
    t = str(delta_type)
    if t in ("byte", "short", "integer", "long"):
        return "int"
    if t.startswith("decimal"):
        return "decimal"
    if t in ("double", "float"):
        return "double"
    if t in ("timestamp", "timestamp_ntz"):
        return "timestamp"
    if t in ("date", "string", "boolean"):
        return t
    raise ValueError(f"no comparison kind for Delta type {t}")


def canonical(kind, value):
    """Canonical text of one value as a client returned it."""
    if value is None:
        return None
    if kind == "int":
        return str(int(value))
    if kind == "string":
        return str(value)
    if kind == "decimal":
        return format(decimal.Decimal(value), "f")
    if kind == "double":
        return str(float(value))
    if kind == "timestamp":
        if not isinstance(value, datetime.datetime):
            raise TypeError(f"timestamp value {value!r} is {type(value)}")
        # Naive values come from Spark's collect() with the session and process zone set to UTC.
        aware = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
        return str((aware - EPOCH) // datetime.timedelta(microseconds=1))
    if kind == "date":
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    if kind == "boolean":
        return "true" if value else "false"
    raise ValueError(kind)


def normalize(kind, value):
    """Normalizes a canonical value for comparison (doubles by numeric value, NaN equal to NaN)."""
    if value is None:
        return None
    if kind == "double":
        f = float(value)
        return "NaN" if math.isnan(f) else repr(f)
    if kind == "decimal":
        # Spark may hand back 1E-10 of a decimal(38,10) as 1.00E-10: compare values, not scales.
        return format(decimal.Decimal(value).normalize(), "f")
    return value


def sorted_rows(columns, rows):
    """Rows normalized and sorted, so two readers' outputs compare as multisets."""
    kinds = [c["kind"] for c in columns]
    return sorted(json.dumps([normalize(k, v) for k, v in zip(kinds, r)]) for r in rows)


def canonical_rows(columns, dict_rows):
    """Canonical text rows from rows given as dicts (by column name)."""
    return [[canonical(c["kind"], r[c["name"]]) for c in columns] for r in dict_rows]
