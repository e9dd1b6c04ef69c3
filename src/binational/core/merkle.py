"""RFC 6962 / RFC 9162 Merkle trees over SHA-256: roots, inclusion and consistency proofs.

Pure functions over *leaf hashes* (``leaf_hash(data)``), so callers can keep the 32-byte
hashes instead of the records. Roots are computed level by level: the recursive definition
in the RFC copies slices at every level, which is far too slow for a million leaves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d): the 0x00 prefix keeps leaves and nodes apart."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """k such that k < n <= 2k (n > 1), the RFC 6962 split point."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of ``leaves`` (leaf hashes).

    Pairing neighbours level by level and carrying an odd last node up unchanged gives the
    same tree as the RFC's left-balanced split at the largest power of two.
    """
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    level = list(leaves)
    sha = _sha256
    while len(level) > 1:
        odd = level[-1] if len(level) % 2 else None
        level = [
            sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if odd is not None:
            level.append(odd)
    return level[0]


def _check_range(index: int, tree_size: int, available: int) -> None:
    if not 0 <= index < tree_size <= available:
        raise ValueError(
            f"need 0 <= index < tree_size <= {available}, got index {index}, tree_size {tree_size}"
        )


def inclusion_proof(leaves: Sequence[bytes], index: int, tree_size: int) -> list[bytes]:
    """The audit path (RFC 6962 §2.1.1) of leaf ``index`` in the tree of the first
    ``tree_size`` leaves, ordered from the leaf upwards."""
    _check_range(index, tree_size, len(leaves))
    proof: list[bytes] = []
    level = list(leaves[:tree_size])
    idx = index
    sha = _sha256
    while len(level) > 1:
        sibling = idx ^ 1
        # The last node of an odd level has no sibling: it is carried up, adding nothing.
        if sibling < len(level):
            proof.append(level[sibling])
        odd = level[-1] if len(level) % 2 else None
        level = [
            sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if odd is not None:
            level.append(odd)
        idx //= 2
    return proof


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` put leaf hash ``leaf`` at ``index`` under ``root_hash``?"""
    if not 0 <= index < tree_size:
        return False
    fn, sn = index, tree_size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def consistency_proof(leaves: Sequence[bytes], first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 6962 §2.1.2: that the tree of the first ``first``
    leaves is a prefix of the tree of the first ``second`` leaves.

    Empty when ``first`` is 0 or equal to ``second`` (nothing to prove).
    """
    if not 0 <= first <= second <= len(leaves):
        raise ValueError(
            f"need 0 <= first <= second <= {len(leaves)}, got first {first}, second {second}"
        )
    if first == 0 or first == second:
        return []
    proof: list[bytes] = []
    # SUBPROOF(m, D[start:end], b), unrolled: each step appends one subtree root, and the
    # RFC emits them innermost first, so collect outer ones and reverse at the end.
    outer: list[bytes] = []
    m, start, end, complete = first, 0, second, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                proof.append(root(leaves[start:end]))
            break
        k = _largest_power_of_two_below(n)
        if m <= k:
            outer.append(root(leaves[start + k : end]))
            end = start + k
        else:
            outer.append(root(leaves[start : start + k]))
            m -= k
            start += k
            complete = False
    proof.extend(reversed(outer))
    return proof


def verify_consistency(
    first: int,
    second: int,
    first_root: bytes,
    second_root: bytes,
    proof: Sequence[bytes],
) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show tree ``first`` is a prefix of tree ``second``?"""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    # A first tree that is a perfect subtree is itself a node of the second: prepend it.
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


class CompactRange:
    """The roots of the perfect subtrees covering leaves appended so far (a Merkle frontier).

    Lets a verifier stream a million leaves and read the root at any size it passes in
    O(log n) memory, instead of holding every leaf hash.
    """

    __slots__ = ("_nodes", "size")

    def __init__(self) -> None:
        self._nodes: list[bytes] = []
        self.size = 0

    def append(self, leaf: bytes) -> None:
        nodes = self._nodes
        nodes.append(leaf)
        self.size += 1
        # Each trailing zero bit of the new size is a pair of equal subtrees to merge.
        s = self.size
        while not s & 1:
            right = nodes.pop()
            nodes[-1] = _sha256(b"\x01" + nodes[-1] + right).digest()
            s >>= 1

    def root(self) -> bytes:
        if not self._nodes:
            return EMPTY_ROOT
        h = self._nodes[-1]
        for node in reversed(self._nodes[:-1]):
            h = node_hash(node, h)
        return h
