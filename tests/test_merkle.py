"""RFC 6962 Merkle tree: known values, a recursive reference, and proof properties."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binational.core import merkle


def leaves_of(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH straight from RFC 6962 §2.1: split at the largest power of two below n."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return merkle.node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def reference_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*reference_path(m, leaves[:k]), reference_root(leaves[k:])]
    return [*reference_path(m - k, leaves[k:]), reference_root(leaves[:k])]


def reference_subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 6962 §2.1.2."""
    n = len(leaves)
    if m == n:
        return [] if complete else [reference_root(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*reference_subproof(m, leaves[:k], complete), reference_root(leaves[k:])]
    return [*reference_subproof(m - k, leaves[k:], False), reference_root(leaves[:k])]


def test_known_values() -> None:
    assert merkle.root([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    # RFC 6962 domain separation: a leaf is SHA-256(0x00 || data).
    assert merkle.leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    one = merkle.leaf_hash(b"a")
    assert merkle.root([one]) == one
    two = [merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")]
    assert merkle.root(two) == hashlib.sha256(b"\x01" + two[0] + two[1]).digest()


def test_root_matches_reference_for_all_small_sizes() -> None:
    leaves = leaves_of(70)
    for n in range(71):
        assert merkle.root(leaves[:n]) == reference_root(leaves[:n]), n


def test_compact_range_matches_root() -> None:
    leaves = leaves_of(100)
    tree = merkle.CompactRange()
    assert tree.root() == merkle.EMPTY_ROOT
    for i, leaf in enumerate(leaves):
        tree.append(leaf)
        assert tree.root() == merkle.root(leaves[: i + 1])


@settings(max_examples=200)
@given(st.data())
def test_inclusion_proofs_verify(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 300), label="tree_size")
    extra = data.draw(st.integers(0, 5), label="leaves beyond tree_size")
    index = data.draw(st.integers(0, size - 1), label="index")
    leaves = leaves_of(size + extra)
    tree_root = merkle.root(leaves[:size])
    assert tree_root == reference_root(leaves[:size])
    proof = merkle.inclusion_proof(leaves, index, size)
    assert proof == reference_path(index, leaves[:size])
    assert merkle.verify_inclusion(leaves[index], index, size, proof, tree_root)
    # Wrong leaf, wrong index, wrong root: all refused. (A wrong size is not always caught:
    # leaf 0 has the same path in trees of 3 and 4 leaves, so that is no property.)
    other = merkle.leaf_hash(b"not in the tree")
    assert not merkle.verify_inclusion(other, index, size, proof, tree_root)
    if size > 1:
        assert not merkle.verify_inclusion(
            leaves[index], (index + 1) % size, size, proof, tree_root
        )
    assert not merkle.verify_inclusion(leaves[index], index, size, proof, b"\x00" * 32)
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1), label="tampered element")
        bad = list(proof)
        bad[at] = bytes([bad[at][0] ^ 1]) + bad[at][1:]
        assert not merkle.verify_inclusion(leaves[index], index, size, bad, tree_root)
        assert not merkle.verify_inclusion(leaves[index], index, size, proof[:-1], tree_root)
        assert not merkle.verify_inclusion(
            leaves[index], index, size, [*proof, proof[0]], tree_root
        )


@settings(max_examples=200)
@given(st.data())
def test_consistency_proofs_verify(data: st.DataObject) -> None:
    second = data.draw(st.integers(1, 300), label="second")
    first = data.draw(st.integers(1, second), label="first")
    leaves = leaves_of(second)
    r1, r2 = merkle.root(leaves[:first]), merkle.root(leaves)
    proof = merkle.consistency_proof(leaves, first, second)
    if first < second:
        assert proof == reference_subproof(first, leaves, True)
    assert merkle.verify_consistency(first, second, r1, r2, proof)
    # A different old tree (one leaf changed) is not a prefix of the new one.
    changed = list(leaves[:first])
    changed[-1] = merkle.leaf_hash(b"forged")
    assert not merkle.verify_consistency(first, second, merkle.root(changed), r2, proof)
    assert not merkle.verify_consistency(first, second, r1, b"\x00" * 32, proof)
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1), label="tampered element")
        bad = list(proof)
        bad[at] = bytes([bad[at][0] ^ 1]) + bad[at][1:]
        assert not merkle.verify_consistency(first, second, r1, r2, bad)
        assert not merkle.verify_consistency(first, second, r1, r2, proof[:-1])
    if first < second:
        assert not merkle.verify_consistency(first, second, r1, r2, [])


def test_consistency_edge_cases() -> None:
    leaves = leaves_of(8)
    r = merkle.root(leaves)
    assert merkle.consistency_proof(leaves, 8, 8) == []
    assert merkle.verify_consistency(8, 8, r, r, [])
    assert not merkle.verify_consistency(8, 8, r, merkle.EMPTY_ROOT, [])
    assert merkle.consistency_proof(leaves, 0, 8) == []
    assert merkle.verify_consistency(0, 8, merkle.EMPTY_ROOT, r, [])
    assert not merkle.verify_consistency(5, 4, r, r, [r])


def test_out_of_range_arguments() -> None:
    leaves = leaves_of(4)
    with pytest.raises(ValueError, match="tree_size <= 4"):
        merkle.inclusion_proof(leaves, 0, 5)
    with pytest.raises(ValueError):
        merkle.inclusion_proof(leaves, 4, 4)
    with pytest.raises(ValueError, match="second <= 4"):
        merkle.consistency_proof(leaves, 2, 5)
    assert not merkle.verify_inclusion(leaves[0], 4, 4, [], leaves[0])
