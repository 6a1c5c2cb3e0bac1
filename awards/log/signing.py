"""The committee's keys and signatures: Ed25519 key pairs, the statement a checkpoint
signature covers, and checks of signed checkpoints and inclusion proofs. No database: the
offline replay and `prove --check` use this as the engine does.

The private key stays in its file and never enters the database or the log; a checkpoint
event carries the public key and the signature.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from awards.errors import AwardsError, NotFound
from awards.log import merkle
from awards.log.chain import canonical

STATEMENT_TYPE = "awards-checkpoint/v1"


def generate_keys(path: str | Path) -> tuple[Path, Path]:
    """Write a new committee key pair: the private key (PEM, readable by its owner only) at
    `path` and the public key beside it with `.pub` added. Refuses to overwrite."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Path(path)
    public = private.with_name(private.name + ".pub")
    for p in (private, public):
        if p.exists():
            raise AwardsError(f"{p} already exists; choose another path or move it away first")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public.write_text(public_hex(key) + "\n", encoding="ascii")
    return private, public


def public_hex(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    return str(
        key.public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )


def load_key(path: str | Path) -> Any:
    """The committee's private key from its PEM file; a clear error for anything else."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(Path(path).read_bytes(), password=None)
    except FileNotFoundError:
        raise NotFound(
            f"no key file {path}; create one with `awards keys generate {path}`"
        ) from None
    except (ValueError, TypeError):
        raise AwardsError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AwardsError(f"{path} is not an Ed25519 key; create one with `awards keys generate`")
    return key


def statement(size: int, root: str, head: str) -> bytes:
    """The exact bytes a checkpoint signature covers."""
    return canonical({"type": STATEMENT_TYPE, "size": size, "root": root, "head": head})


def signature_ok(event: dict[str, Any]) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(event["public_key"]))
        public.verify(
            bytes.fromhex(event["signature"]),
            statement(event["size"], event["root"], event["head"]),
        )
    except (InvalidSignature, ValueError, KeyError):
        return False
    return True


def check_proof(proof: dict[str, Any]) -> list[str]:
    """Check a proof from `prove` on its own: the leaf is the event's hash, the audit path
    leads to the checkpoint's root, and the checkpoint's signature holds. Returns problems."""
    problems = []
    leaf = merkle.leaf_hash(proof["event"].encode("utf-8"))
    if leaf.hex() != proof["leaf_hash"]:
        problems.append("the leaf hash is not the hash of the event")
    path: Sequence[bytes] = [bytes.fromhex(h) for h in proof["audit_path"]]
    cp = proof["checkpoint"]
    if not merkle.verify_inclusion(
        proof["leaf_index"], proof["tree_size"], leaf, path, bytes.fromhex(cp["root"])
    ):
        problems.append("the audit path does not lead to the checkpoint's root")
    if cp.get("signature") is not None and not signature_ok(cp):
        problems.append("the checkpoint's signature does not hold")
    return problems


def check_proof_against(proof: dict[str, Any], roots: Sequence[tuple[int, str]]) -> list[str]:
    """`check_proof`, and that the proof's checkpoint is one of a replayed log's (`roots`:
    the (size, root) of each checkpoint the replay verified)."""
    problems = check_proof(proof)
    cp = proof["checkpoint"]
    if (cp["size"], cp["root"]) not in set(roots):
        problems.append(
            f"the log has no checkpoint of {cp['size']} events with root {cp['root'][:16]}"
        )
    return problems
