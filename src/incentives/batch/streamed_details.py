"""The explained long table as Arrow tables, one block of enterprises at a time: what the Parquet writer streams.

The rows, their order and their values are those of explain.encoded_details, but the whole table never exists.
Tens of millions of rows put in place across a whole table write each cache line once per part (a row of one
scheme every few dozen rows), into fresh pages that the kernel must first zero. Put in place a block at a time,
the writes land in a few megabytes, and the allocator hands the same memory to block after block.

Each block goes to Arrow as it is built: numbers as numpy buffers, text as dictionary codes over small
dictionaries (a block's enterprise ids and unit ids are cut to the ones it uses), so no text is copied per row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow as pa

from .explain import (_DESCRIBED, _Keys, _Part, _physical_types, _values_schema, explained_parts,
                      numbered_descriptions)
from .long_table import arrow_array, coded, numpy_of

if TYPE_CHECKING:
    from .columnar import BatchResult

_INDEX = pa.uint32()  # the codes of the ids, cut to a block's own
# never null: every row has a reason text, "" when nothing failed (explain._text_of); what to confirm may be null
_EVERY_ROW = ("enterprise_id", "scheme_id", "unit_kind", "status", "reasons_zh", "reasons_en")


class _Chunks:
    """A part's column as numpy views of its Arrow chunks (no copy), and where its values are valid.

    A block takes a slice of it: within one chunk that is a view; across chunks, a copy of the slice alone.
    Bits (booleans, validity) are unpacked a slice at a time.
    """

    def __init__(self, column: pl.Series):
        self.starts, self.chunks = [], []
        start = 0
        for chunk in column.to_physical().get_chunks():
            array = chunk.to_arrow()
            if not len(array):  # an empty chunk may have no buffers at all
                continue
            validity, data = array.buffers()[:2]
            self.chunks.append((_bits_or_values(data, array.type, array.offset, len(array)),
                                None if validity is None or not array.null_count
                                else (np.frombuffer(validity, dtype=np.uint8), array.offset)))
            self.starts.append(start)
            start += len(array)
        self.starts.append(start)

    def slice(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray | None]:
        pieces = []
        for i, (data, validity) in enumerate(self.chunks):
            lo, hi = max(start, self.starts[i]), min(stop, self.starts[i + 1])
            if lo < hi:
                lo, hi = lo - self.starts[i], hi - self.starts[i]
                pieces.append((_unpacked(data, lo, hi), None if validity is None else _unpacked(validity, lo, hi)))
        if len(pieces) == 1:
            return pieces[0]
        values = np.concatenate([v for v, _ in pieces])
        if all(valid is None for _, valid in pieces):
            return values, None
        return values, np.concatenate([np.ones(v.size, np.bool_) if valid is None else valid for v, valid in pieces])


def _bits_or_values(data: pa.Buffer, arrow_type: pa.DataType, offset: int, length: int):
    if arrow_type == pa.bool_():
        return np.frombuffer(data, dtype=np.uint8), offset
    return np.frombuffer(data, dtype=arrow_type.to_pandas_dtype(), count=offset + length)[offset:]


def _unpacked(data, lo: int, hi: int) -> np.ndarray:
    """Values lo..hi-1 of a chunk: a view of numbers, or bits (a bitmap and its offset) unpacked to bools."""
    if isinstance(data, np.ndarray):
        return data[lo:hi]
    bitmap, offset = data
    first = offset + lo
    bits = np.unpackbits(bitmap[first // 8:(offset + hi + 7) // 8], bitorder="little")
    return bits[first % 8:first % 8 + hi - lo].view(np.bool_)


def _physical(column: pl.Series) -> _Chunks | None:
    """A part's column as its codes or values (None: every row is null, nothing to put in place)."""
    return None if column.null_count() == column.len() else _Chunks(column)


def _dictionary(codes: np.ndarray, valid: np.ndarray | None, dictionary: pa.Array) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(arrow_array(codes, valid, pa.from_numpy_dtype(codes.dtype)), dictionary)


class StreamedDetails:
    """The long table of a result, built block by block of enterprises (see module doc)."""

    def __init__(self, keys: _Keys, schema: dict[str, pl.DataType], parts: list[_Part], n: int):
        parts = [_by_enterprise(part) for part in parts]
        # how many rows each unit kind gives each enterprise: counted once per kind, not once per scheme
        self._counts: dict[str, np.ndarray] = {}
        for part in parts:
            if part.ranks is not None and part.rows_of not in self._counts:
                self._counts[part.rows_of] = np.bincount(part.rows, minlength=n)[:n]
        per_enterprise = np.zeros(n, dtype=np.int64)
        for part in parts:
            if part.ranks is not None:
                per_enterprise += self._counts[part.rows_of]
            elif part.rows.size == n:  # one row for every enterprise
                per_enterprise += 1
            else:
                per_enterprise[part.rows] += 1
        self.per_enterprise = per_enterprise
        self.starts = np.concatenate([[0], np.cumsum(per_enterprise)])  # each enterprise's first row; then the end
        self.height = int(self.starts[-1])
        self._rows = [part.rows for part in parts]
        self._ranks = [part.ranks for part in parts]
        self._kinds = [part.rows_of for part in parts]
        self._offsets, descriptions = numbered_descriptions(parts)
        self._described = [part.described for part in parts]
        self._values = {c: [_physical(part.values.get_column(c)) if c in part.values.columns else None
                            for part in parts] for c in _values_schema(schema)}
        # the columns a part keeps for its rows with an amount only: those rows (in the part) and their values
        self._sparse = {c: [None if part.sparse is None or c not in part.sparse.columns
                            else (part.sparse.get_column("_at").to_numpy(), _physical(part.sparse.get_column(c)))
                            for part in parts] for c in _values_schema(schema)}
        physical = _physical_types(keys)
        physical.setdefault("unit_id", pl.UInt32)  # no units at all: every unit id is null, its codes unread
        self._value_types = {c: numpy_of(physical.get(c, dtype)) for c, dtype in _values_schema(schema).items()}
        # per description number, each described column's code and whether it has a text
        self._descriptions = {}
        for c in _DESCRIBED:
            enum, codes, valid = coded(descriptions.get_column(c).cast(pl.String).to_list(), schema[c])
            self._descriptions[c] = (codes, valid, pa.array(enum.categories.to_list(), pa.string()))
        self._dictionaries = {
            "enterprise_id": keys.enterprise_ids.to_arrow().cast(pa.string()),
            "unit_id": keys.unit_dtype.categories.to_arrow().cast(pa.string()) if keys.units
            else pa.array([], pa.string()),
            "status": pa.array(schema["status"].categories.to_list(), pa.string()),
            "superseded_by": pa.array(keys.schemes.categories.to_list(), pa.string()),
        }
        self.columns = list(schema)
        # columns every row has are required fields: Parquet then stores no definition level per row for them
        self.schema = pa.schema([pa.field(c, self._arrow_type(c, dtype), nullable=c not in _EVERY_ROW)
                                 for c, dtype in schema.items()])

    @classmethod
    def of(cls, result: BatchResult) -> StreamedDetails | None:
        """None when the ids are not dictionary-encoded (ids that repeat): the whole table is built instead."""
        keys, schema, parts = explained_parts(result)
        units_coded = isinstance(keys.unit_dtype, pl.Enum) or not keys.units  # no units: every unit id is null
        if not (units_coded and isinstance(keys.enterprise, pl.Enum) and isinstance(keys.schemes, pl.Enum)):
            return None
        return cls(keys, schema, parts, result.frames.enterprises.height)

    def _arrow_type(self, column: str, dtype: pl.DataType) -> pa.DataType:
        if column in ("enterprise_id", "unit_id"):
            return pa.dictionary(_INDEX, pa.string())
        if column in self._descriptions:
            return pa.dictionary(pa.from_numpy_dtype(self._descriptions[column][0].dtype), pa.string())
        if column in self._dictionaries:
            return pa.dictionary(pa.from_numpy_dtype(self._value_types[column]), pa.string())
        return pa.bool_() if dtype == pl.Boolean else pa.from_numpy_dtype(self._value_types[column])

    def blocks(self, first: int, last: int, rows_per_block: int) -> list[tuple[int, int]]:
        """Enterprise ranges [a, b) covering enterprises first..last-1, each about rows_per_block rows long."""
        targets = np.arange(self.starts[first] + rows_per_block, self.starts[last], rows_per_block)
        cuts = np.unique(np.concatenate([[first], np.searchsorted(self.starts, targets), [last]]))
        return [(int(a), int(b)) for a, b in zip(cuts, cuts[1:])]

    def halves(self) -> list[int]:
        """The enterprise that starts the second half of the rows (0, that, n): two files written side by side."""
        n = self.per_enterprise.size
        return [0, int(np.searchsorted(self.starts, self.height // 2)) if n else 0, n]

    def with_status(self, block: pa.Table, status: str, columns: list[str]) -> pa.Table:
        """These columns of the rows of a block with this status, found by its code."""
        import pyarrow.compute as pc

        code = self._dictionaries["status"].to_pylist().index(status)
        return block.select(columns).filter(pc.equal(block.column("status").chunk(0).indices, code))

    def _places(self, first: int, last: int, cuts: list[list[int]]) -> list[np.ndarray]:
        """Where each part's rows of the block go within it (long_table.enterprise_places, for these
        enterprises): an enterprise's rows part by part, a part's by rank."""
        next_free = self.starts[first:last] - self.starts[first]
        places = []
        for rows, ranks, kind, (a, b) in zip(self._rows, self._ranks, self._kinds, cuts):
            if ranks is not None:
                places.append(next_free[rows[a:b] - first] + ranks[a:b])
                next_free += self._counts[kind][first:last]
            elif b - a == last - first:  # one row for every enterprise of the block
                places.append(next_free.copy())
                next_free += 1
            else:
                at = rows[a:b] - first
                places.append(next_free[at])
                next_free[at] += 1
        return places

    def block(self, first: int, last: int) -> pa.Table:
        """The rows of enterprises first..last-1, in order, as Arrow."""
        start = int(self.starts[first])
        size = int(self.starts[last]) - start
        cuts = [np.searchsorted(rows, np.array([first, last], dtype=rows.dtype)).tolist() for rows in self._rows]
        local = self._places(first, last, cuts)
        described = np.empty(size, dtype=np.uint32)
        for part, offset, place, (a, b) in zip(self._described, self._offsets, local, cuts):
            described[place] = part[a:b] + offset
        arrays = {}
        counts = self.per_enterprise[first:last]
        arrays["enterprise_id"] = _dictionary(np.repeat(np.arange(last - first, dtype=np.uint32), counts), None,
                                              self._dictionaries["enterprise_id"].slice(first, last - first))
        for column, pieces in self._values.items():
            values, valid = _scatter(pieces, self._sparse[column], local, cuts, size, self._value_types[column])
            if column == "unit_id":
                arrays[column] = _narrowed(values, valid, self._dictionaries["unit_id"])
            elif column in self._dictionaries:
                arrays[column] = _dictionary(values, valid, self._dictionaries[column])
            else:
                arrays[column] = arrow_array(values, valid, self.schema.field(column).type)
        for column, (codes, valid, dictionary) in self._descriptions.items():
            arrays[column] = _dictionary(codes[described], None if valid.all() else valid[described], dictionary)
        if any(arrays[c].null_count for c in _EVERY_ROW):
            raise AssertionError("a row without an enterprise, scheme, unit kind, status or reasons")
        return pa.Table.from_arrays([arrays[c] for c in self.columns], schema=self.schema)


def _by_enterprise(part: _Part) -> _Part:
    """The part with its rows grouped by enterprise (stably), so that a block's rows of it are one slice."""
    rows = part.rows
    if rows.size < 2 or bool(np.all(rows[1:] >= rows[:-1])):
        return part
    order = np.argsort(rows, kind="stable")
    sparse = part.sparse
    if sparse is not None:  # each kept row's new place in the part, in increasing order again
        moved_to = np.empty(order.size, dtype=np.uint32)
        moved_to[order] = np.arange(order.size, dtype=np.uint32)
        sparse = sparse.with_columns(pl.Series("_at", moved_to[sparse.get_column("_at").to_numpy()])).sort("_at")
    return _Part(part.values[order], part.described[order], part.descriptions, rows[order],
                 None if part.ranks is None else part.ranks[order], part.rows_of, sparse)


def _scatter(pieces: list[_Chunks | None], sparse: list[tuple[np.ndarray, _Chunks | None] | None],
             local: list[np.ndarray], cuts: list[list[int]], size: int,
             dtype: np.dtype) -> tuple[np.ndarray, np.ndarray | None]:
    """A block's column: each part's slice at its places (or, for a column a part keeps for a few rows, those
    rows of the slice at theirs); rows no part has a value for are null."""
    values = np.zeros(size, dtype=dtype)
    valid = np.zeros(size, dtype=np.bool_)
    for piece, few, place, (a, b) in zip(pieces, sparse, local, cuts):
        if a == b:
            continue
        if piece is not None:
            part_values, part_valid = piece.slice(a, b)
            values[place] = part_values
            valid[place] = True if part_valid is None else part_valid
        elif few is not None and few[1] is not None:
            at, column = few
            first, last = np.searchsorted(at, np.array([a, b], dtype=at.dtype)).tolist()
            if first < last:
                part_values, part_valid = column.slice(first, last)
                where = place[at[first:last] - at.dtype.type(a)]
                values[where] = part_values
                valid[where] = True if part_valid is None else part_valid
    return values, None if valid.all() else valid


def _narrowed(codes: np.ndarray, valid: np.ndarray | None, dictionary: pa.Array) -> pa.DictionaryArray:
    """Codes into a dictionary of only the entries they use (in dictionary order), as uint32."""
    used_codes = codes if valid is None else codes[valid]
    if not used_codes.size:  # every row null (a block of enterprise-wide rows): the codes are never read
        return _dictionary(np.zeros(codes.size, dtype=np.uint32), valid, dictionary.slice(0, 0))
    seen = np.zeros(len(dictionary), dtype=np.bool_)
    seen[used_codes] = True
    used = np.flatnonzero(seen)
    renumber = np.zeros(len(dictionary), dtype=np.uint32)
    renumber[used] = np.arange(used.size, dtype=np.uint32)
    return _dictionary(renumber[codes], valid, dictionary.take(pa.array(used)))
