"""RFC 9162 (Certificate Transparency 2.0) Merkle tree over the decision log. A leaf module.

Leaf hash = SHA-256(0x00 || event bytes), node hash = SHA-256(0x01 || left || right); a tree
of n leaves splits at the largest power of two smaller than n. Inclusion proofs show that an
event is in a log of a given size; consistency proofs show that a larger log extends a
smaller one without changing any of its events. Any RFC 9162 verifier can check them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

_sha256 = hashlib.sha256


def leaf_hash(event: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + event).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of leaf hashes, bottom-up: O(n) hashing, O(log n) memory."""
    if not leaves:
        return EMPTY_ROOT
    # Combine complete subtrees left to right, as the recursive definition does.
    stack: list[tuple[int, bytes]] = []  # (size, hash) of complete power-of-two subtrees
    for leaf in leaves:
        size, h = 1, leaf
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            size, h = left_size + size, node_hash(left, h)
        stack.append((size, h))
    h = stack.pop()[1]
    while stack:
        h = node_hash(stack.pop()[1], h)
    return h


class Frontier:
    """A growing tree's complete power-of-two subtrees: append leaves one at a time, ask for
    the root at any size, with O(log n) memory (the same hash as `root`)."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []

    def append(self, leaf: bytes) -> None:
        self._push(1, leaf)

    def extend(self, leaves: Sequence[bytes]) -> None:
        """Append leaves in order: the same tree as appending them one at a time, hashed a
        level at a time (one list comprehension per level, not a loop step per node)."""
        done, n = 0, len(leaves)
        while done < n:
            # The largest complete subtree that may start here: aligned to the tree's size,
            # no larger than what is left.
            room = self.size & -self.size or 1 << n.bit_length()
            size = min(room, 1 << ((n - done).bit_length() - 1))
            level = leaves[done : done + size]
            while len(level) > 1:
                pairs = iter(level)
                level = [
                    _sha256(b"\x01" + a + b).digest() for a, b in zip(pairs, pairs, strict=False)
                ]
            self._push(size, level[0])
            done += size

    def _push(self, size: int, h: bytes) -> None:
        """Add a complete subtree of `size` leaves that starts at the tree's size."""
        self.size += size
        while self._stack and self._stack[-1][0] == size:
            left_size, left = self._stack.pop()
            size, h = left_size + size, node_hash(left, h)
        self._stack.append((size, h))

    def state(self) -> list[list[Any]]:
        """The subtrees as [size, hex hash] pairs, to resume from later (see `resume`)."""
        return [[size, h.hex()] for size, h in self._stack]

    @classmethod
    def resume(cls, state: Sequence[Sequence[Any]]) -> Frontier:
        tree = cls()
        tree._stack = [(int(size), bytes.fromhex(h)) for size, h in state]
        tree.size = sum(size for size, _ in tree._stack)
        return tree

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        h = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            h = node_hash(left, h)
        return h


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """The audit path of leaf `index` in the tree of `leaves` (RFC 9162 section 2.1.3.1)."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_proof(index, leaves[:k]), root(leaves[k:])]
    return [*inclusion_proof(index - k, leaves[k:]), root(leaves[:k])]


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2: does `proof` show `leaf` at `index` in a tree of `size`?"""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """Proof that the first `old_size` leaves form a prefix of `leaves` (section 2.1.4.1)."""
    if not 0 < old_size <= len(leaves):
        raise ValueError(f"no consistency proof from {old_size} to {len(leaves)}")
    return _subproof(old_size, leaves, True)


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), root(leaves[:k])]


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2: does `proof` show the new tree extends the old one?"""
    if old_size == new_size:
        return old_root == new_root and not proof
    if not 0 < old_size < new_size or not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
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
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
