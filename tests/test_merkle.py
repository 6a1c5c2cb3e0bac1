"""RFC 9162 Merkle tree: roots, inclusion and consistency proofs."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awards.log.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)


def mth(leaves: list[bytes]) -> bytes:
    """The recursive definition of RFC 9162 section 2.1.1, written out for comparison."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def leaves(n: int) -> list[bytes]:
    return [leaf_hash(f'{{"seq":{i}}}'.encode()) for i in range(n)]


def test_leaf_and_node_hashes_are_domain_separated():
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert root([]) == EMPTY_ROOT


@given(st.integers(min_value=1, max_value=70))
def test_root_matches_the_recursive_definition(n):
    assert root(leaves(n)) == mth(leaves(n))


@settings(max_examples=40)
@given(st.integers(min_value=1, max_value=40), st.data())
def test_every_inclusion_proof_verifies_and_a_wrong_leaf_does_not(n, data):
    tree = leaves(n)
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    proof = inclusion_proof(i, tree)
    assert verify_inclusion(i, n, tree[i], proof, root(tree))
    assert not verify_inclusion(i, n, leaf_hash(b"forged"), proof, root(tree))


@settings(max_examples=40)
@given(st.integers(min_value=1, max_value=40), st.data())
def test_consistency_proofs_verify_and_detect_a_rewritten_prefix(n, data):
    tree = leaves(n)
    m = data.draw(st.integers(min_value=1, max_value=n))
    proof = consistency_proof(m, tree)
    assert verify_consistency(m, n, root(tree[:m]), root(tree), proof)
    rewritten = [leaf_hash(b"forged"), *tree[1:]]
    if m < n:
        assert not verify_consistency(m, n, root(rewritten[:m]), root(tree), proof)


def test_a_frontier_grown_or_resumed_gives_the_same_root_at_every_size():
    leaves = [leaf_hash(str(i).encode()) for i in range(70)]
    tree = Frontier()
    for n, leaf in enumerate(leaves, start=1):
        tree.append(leaf)
        resumed = Frontier.resume(tree.state())
        assert (tree.size, tree.root(), resumed.root()) == (n, root(leaves[:n]), root(leaves[:n]))


@pytest.mark.parametrize("before", [0, 1, 3, 8, 13])
@pytest.mark.parametrize("count", [0, 1, 2, 5, 64, 100, 1000])
def test_frontier_extend_grows_the_same_tree_as_appending_each_leaf(before, count):
    leaves = [leaf_hash(str(i).encode()) for i in range(before + count)]
    one_by_one, extended = Frontier(), Frontier()
    for leaf in leaves:
        one_by_one.append(leaf)
    for leaf in leaves[:before]:
        extended.append(leaf)
    extended.extend(leaves[before : before + count // 3])
    extended.extend(leaves[before + count // 3 :])
    assert (extended.size, extended.state()) == (one_by_one.size, one_by_one.state())
    assert extended.root() == one_by_one.root() == root(leaves)
