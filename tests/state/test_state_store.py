"""The LMDB state store: key order, transactions, snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zeebe_trio.state import StateStore, pack_key, unpack_key

# Any text at all: NUL, the escape byte, control characters and lone surrogates come from clients too.
any_text = st.text(alphabet=st.characters(blacklist_categories=()), max_size=12)
parts = st.one_of(st.integers(min_value=-(2**63), max_value=2**63 - 1),
                  any_text | st.text(alphabet="\x00\x01\x02a", max_size=6))
keys = st.lists(parts, min_size=1, max_size=4).map(tuple)


@given(keys, keys)
def test_packed_keys_sort_like_their_tuples_when_the_types_line_up(a: tuple, b: tuple) -> None:  # type: ignore[type-arg]
    assert unpack_key(pack_key(a)) == a
    if all(type(x) is type(y) for x, y in zip(a, b, strict=False)):
        assert (pack_key(a) < pack_key(b)) == (a < b)


@given(keys, keys)
def test_different_keys_never_pack_to_the_same_bytes(a: tuple, b: tuple) -> None:  # type: ignore[type-arg]
    if a != b:
        assert pack_key(a) != pack_key(b)


@given(keys, keys)
def test_a_packed_tuple_prefix_matches_exactly_the_keys_that_start_with_it(prefix: tuple, key: tuple) -> None:  # type: ignore[type-arg]
    assert pack_key(key).startswith(pack_key(prefix)) == (key[: len(prefix)] == prefix)
    assert pack_key(prefix + key).startswith(pack_key(prefix))


def test_strings_with_nul_no_longer_collide_with_two_part_keys() -> None:
    assert pack_key(("a\x00\x02b",)) != pack_key(("a", "b"))
    assert unpack_key(pack_key(("a\x00\x02b",))) == ("a\x00\x02b",)
    assert unpack_key(pack_key(("\ud800", "x\x01"))) == ("\ud800", "x\x01")


def test_a_prefix_scan_does_not_return_keys_of_a_longer_string(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "state", ["cf"])
    cf = store.family("cf")
    with store.transaction() as txn:
        txn.put(cf, ("order", 1), "short")
        txn.put(cf, ("order\x00x", 2), "longer")
        txn.put(cf, ("order\x01", 3), "escape")
    with store.read() as txn:
        assert list(txn.keys(cf, "order")) == [("order", 1)]
        assert list(txn.keys(cf, "order\x00x")) == [("order\x00x", 2)]
        assert list(txn.keys(cf)) == [("order", 1), ("order\x00x", 2), ("order\x01", 3)]
    store.close()


def test_a_transaction_that_raises_changes_nothing(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "state", ["cf"])
    cf = store.family("cf")
    with store.transaction() as txn:
        txn.put(cf, (1, "a"), {"v": 1})
    with pytest.raises(RuntimeError), store.transaction() as txn:
        txn.put(cf, (2, "b"), {"v": 2})
        txn.delete(cf, 1, "a")
        raise RuntimeError("boom")
    with store.read() as txn:
        assert list(txn.items(cf)) == [((1, "a"), {"v": 1})]
    store.close()


def test_prefix_scans_return_only_matching_keys_in_order(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "state", ["cf"])
    cf = store.family("cf")
    with store.transaction() as txn:
        for key in [(2, "b"), (1, "z"), (2, "a"), (3, "a"), (-5, "x")]:
            txn.put(cf, key, None)
    with store.read() as txn:
        assert list(txn.keys(cf, 2)) == [(2, "a"), (2, "b")]
        assert [k for k, _ in txn.items(cf)] == [(-5, "x"), (1, "z"), (2, "a"), (2, "b"), (3, "a")]
    store.close()


def test_a_snapshot_taken_from_a_read_transaction_ignores_later_writes(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "state", ["cf"])
    cf = store.family("cf")
    with store.transaction() as txn:
        txn.put(cf, (1,), "before")
    snapshot_txn = store.snapshot_transaction()
    with store.transaction() as txn:
        txn.put(cf, (1,), "after")
    store.write_snapshot(tmp_path / "snap", snapshot_txn)
    store.release(snapshot_txn)
    store.close()
    restored = StateStore.restore(tmp_path / "snap", tmp_path / "runtime", ["cf"])
    with restored.read() as txn:
        assert txn.get(restored.family("cf"), 1) == "before"
    restored.close()
