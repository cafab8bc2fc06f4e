"""Reading histories and diagnostics dicts that may come from a file: checked field by field.

:func:`history_records` takes what :func:`bprop.diagnostics.explain` and the plots accept (a
History, its ``to_dict()``, a list of records or of their dicts) and returns the records;
:func:`check_diagnostics` refuses a diagnostics dict (:meth:`Diagnostics.summary`, or one read
from a file) whose fields have the wrong types, with a ``DataError`` naming the field.
"""

from __future__ import annotations

from numbers import Integral, Real

from ..errors import ConfigError, DataError
from ..training import EpochRecord, History, check_record


def history_records(history, needs, partial=False):
    """The epoch records of a History, of its ``to_dict()``, or of any iterable of
    EpochRecords (or of their dicts). Dicts are checked by ``History.from_dict``
    (``DataError`` naming the field), or with ``partial`` kept as they are, fields left out
    (:func:`explain` reads what is there). Anything else: ``ConfigError`` starting with
    ``needs``, which says what the caller takes."""
    if isinstance(history, History):
        return history.records
    if isinstance(history, dict) and "records" in history:
        records = history["records"]
        if partial and isinstance(records, list):
            return _record_list(records, needs, partial)
        return History.from_dict(history).records
    if isinstance(history, dict):
        keys = ", ".join(map(str, list(history)[:5])) or "none"
        raise ConfigError(f"{needs}; got a dict with keys {keys}")
    if isinstance(history, (str, bytes)) or not hasattr(history, "__iter__"):
        raise ConfigError(f"{needs}; got {type(history).__name__}")
    return _record_list(list(history), needs, partial)


def _record_list(records, needs, partial):
    if all(isinstance(r, EpochRecord) for r in records):
        return records
    if all(isinstance(r, dict) for r in records):
        if partial:
            return [check_record(r, i, required=False) for i, r in enumerate(records)]
        return History.from_dict({"records": records}).records
    kinds = sorted({type(r).__name__ for r in records})
    raise ConfigError(f"{needs}; got records of type {', '.join(kinds)}")


#: The per-layer lists of a diagnostics dict (one number, or None, per layer).
PER_LAYER = ("grad_b", "grad_w", "mean_activation", "saturated", "dead", "weight_norm")


def check_diagnostics(d, where, need=()):
    """Refuse a diagnostics dict (:meth:`Diagnostics.summary`, hand-written or read from a
    file) whose fields have the wrong types, or that lacks one of the keys in ``need``:
    ``DataError`` naming ``where`` and the field. Other fields may be left out."""
    if not isinstance(d, dict):
        raise DataError(f"{where} must be a dict; got {type(d).__name__}")
    missing = [key for key in need if d.get(key) is None]
    if missing:
        raise DataError(f"{where} have no {missing[0]!r}; expected the dict that "
                        f"bprop.diagnostics.Diagnostics writes")

    def number(v):
        return v is None or (isinstance(v, Real) and not isinstance(v, bool))

    def count(v, low):
        return v is None or (isinstance(v, Integral) and not isinstance(v, bool) and v >= low)

    layers = d.get("layers")
    if layers is not None and not (isinstance(layers, (list, tuple))
                                   and all(count(k, 1) and k is not None for k in layers)):
        raise DataError(f"{where}: 'layers' must be a list of layer numbers; got {layers!r:.80}")
    n = len(layers) if layers else None
    for key in ("activations", *PER_LAYER):
        v = d.get(key)
        item = (lambda a: isinstance(a, str)) if key == "activations" else number
        if v is not None and not (isinstance(v, (list, tuple)) and all(map(item, v))
                                  and (n is None or len(v) == n)):
            want = "names" if key == "activations" else "numbers"
            per = f", one per layer ({n})" if n is not None else ""
            raise DataError(f"{where}: {key!r} must be a list of {want}{per}; got {v!r:.80}")
    checks = [(key, number, "a number") for key in ("output_saturated_wrong",
                                                    "saturation_threshold")]
    checks += [("every", lambda v: count(v, 1), "an integer >= 1")]
    checks += [(key, lambda v: count(v, 0), "an integer >= 0") for key in ("batches", "examples")]
    checks += [(key, lambda v: v is None or isinstance(v, str), "a name")
               for key in ("cost", "init")]
    for key, ok, want in checks:
        if not ok(d.get(key)):
            raise DataError(f"{where}: {key!r} must be {want}; got {d[key]!r:.80}")


def field_of(record, name):
    """A field of an EpochRecord or of its dict form (None when absent)."""
    return record.get(name) if isinstance(record, dict) else getattr(record, name, None)
