"""The committee's keys and signatures: Ed25519 key pairs, the statement a checkpoint
signature covers, and checks of signed checkpoints and inclusion proofs. No database: the
offline replay and `prove --check` use this as the engine does.

The private key stays in its file and never enters the database or the log; a checkpoint
event carries the public key and the signature.
"""

from __future__ import annotations

import json
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
    except (InvalidSignature, ValueError, KeyError, TypeError):  # a forged event, say
        return False
    return True


def load_public_key(path: str | Path) -> str:
    """A trusted committee public key from its file (`awards keys generate` writes it to
    KEY.pub): 64 hexadecimal digits, returned in lower case."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise NotFound(f"no public key file {path}") from None
    text = data.decode("ascii", "replace").strip().lower()
    if len(text) != 64 or any(ch not in "0123456789abcdef" for ch in text):
        raise AwardsError(
            f"{path} is not a committee public key: it must hold the 64 hexadecimal digits "
            "that `awards keys generate KEY` writes to KEY.pub"
        )
    return text


def read_proof(path: str | Path) -> dict[str, Any]:
    """A proof file written by `awards prove`, parsed; a one-line error for anything else."""
    data = Path(path).read_bytes()
    try:
        proof = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise AwardsError(f"{path}: not a proof: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise AwardsError(
            f"{path}:{exc.lineno}: not a proof: not JSON ({exc.msg}, column {exc.colno})"
        ) from None
    if wrong := _proof_problem(proof):
        raise AwardsError(f"{path}: not a proof written by `awards prove`: {wrong}")
    return proof  # type: ignore[no-any-return]


_PROOF = {"nomination": str, "leaf_index": int, "tree_size": int, "event": str, "leaf_hash": str,
          "audit_path": list, "checkpoint": dict}  # fmt: skip


def _proof_problem(proof: Any) -> str | None:
    if type(proof) is not dict:
        return "not a JSON object"
    for name, kind in _PROOF.items():
        if type(proof.get(name)) is not kind:
            return f"{name!r} is missing or not {kind.__name__}"
    cp = proof["checkpoint"]
    if not all(_hex(h, 32) for h in (proof["leaf_hash"], cp.get("root"), cp.get("head"))):
        return "a hash is not 64 hexadecimal digits"
    if not all(_hex(h, 32) for h in proof["audit_path"]):
        return "'audit_path' must be a list of 64-digit hashes"
    if type(cp.get("size")) is not int or proof["leaf_index"] < 0 or proof["tree_size"] < 1:
        return "the sizes and the index must be whole numbers"
    if cp.get("public_key") is not None and not _hex(cp["public_key"], 32):
        return "the checkpoint's 'public_key' is not 64 hexadecimal digits"
    return None


def _hex(value: Any, size: int) -> bool:
    if type(value) is not str or len(value) != 2 * size:
        return False
    try:
        bytes.fromhex(value)
    except ValueError:
        return False
    return True


def check_proof(proof: dict[str, Any], trusted: str | None = None) -> list[str]:
    """Check a proof from `prove` on its own: the leaf is the event's hash, the audit path
    leads to the checkpoint's root, the checkpoint's signature holds, and with a `trusted`
    public key (hex), that it is signed with that key. Returns problems.

    Without a trusted key a proof shows only that the event is in *a* log with that root:
    anyone can make a log, a tree and a proof; only the committee's key makes it theirs.
    """
    if wrong := _proof_problem(proof):
        return [f"not a proof written by `awards prove`: {wrong}"]
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
    if proof["tree_size"] != cp["size"]:
        problems.append(
            f"the proof's tree of {proof['tree_size']} events is not the checkpoint's ({cp['size']})"
        )
    if cp.get("signature") is not None and not signature_ok(cp):
        problems.append("the checkpoint's signature does not hold")
    elif trusted is not None and cp.get("signature") is None:
        problems.append(
            "the checkpoint is unsigned, and the trusted key accepts only one signed with it"
        )
    elif trusted is not None and cp.get("public_key") != trusted:
        problems.append(
            f"the checkpoint is signed with another key ({str(cp.get('public_key'))[:16]}) than the trusted one"
        )
    return problems


def check_proof_against(
    proof: dict[str, Any], roots: Sequence[tuple[int, str]], trusted: str | None = None
) -> list[str]:
    """`check_proof`, and that the proof's checkpoint is one of a replayed log's (`roots`:
    the (size, root) of each checkpoint the replay verified)."""
    problems = check_proof(proof, trusted)
    if problems and problems[0].startswith("not a proof"):
        return problems
    cp = proof["checkpoint"]
    if (cp["size"], cp["root"]) not in set(roots):
        problems.append(
            f"the log has no checkpoint of {cp['size']} events with root {cp['root'][:16]}"
        )
    return problems
