"""Seeds that nobody can choose: rounds of the drand ``quicknet`` randomness beacon (pure).

The League of Entropy's drand network publishes, every 3 seconds, a BLS signature over the
round number; its randomness is SHA-256 of that signature. Anyone can check a round's
signature offline against the network's public key, and nobody can know a future round's
value. A task that takes its seed from the beacon names, at commit, a round that lies in the
future (``round_at(planned draw time)``); at draw time that round's signature is verified with
the ``drand-verify`` package and its randomness, lower-case hex, is the sampler's seed.

The quicknet constants and their sources:

- chain hash ``52db9ba7…84e971`` and the public HTTP endpoints (the default of
  $SUPERVISION_BEACON_URLS in ``supervision.settings``): drand's HTTP API reference,
  https://docs.drand.love/docs/dev-guide/3-4-dev-guide-http-api ("The chain hash for the League
  of Entropy quicknet network running at a 3s frequency in unchained mode on Mainnet");
- public key, genesis time 1692803367 and period 3 s: the chain's ``/info`` document
  (https://api.drand.sh/52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971/info);
  the key is the one ``drand_verify.verify_quicknet`` 0.2.1 carries as its default, and the
  recorded round 657413 (2023-09-15 11:00:03 UTC) verifies with it and gives randomness
  ``fc1873a1…3b3587`` (tests/test_beacon.py checks both).

Nothing here does I/O; fetching a round over HTTPS is ``draw.beacon_fetch``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import drand_verify

from supervision.errors import SupervisionError

CHAIN_HASH = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
PUBLIC_KEY = (
    "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c"
    "8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb"
    "5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a"
)
GENESIS = 1692803367  # Unix seconds: round 1 of quicknet
PERIOD = 3  # seconds between rounds
SCHEME = "bls-unchained-g1-rfc9380"
KIND_TYPED = "typed"
KIND_BEACON = "beacon"
SEED_KINDS = (KIND_TYPED, KIND_BEACON)
#: How each kind of seed is named on notices and in messages (Chinese, English).
KIND_LABELS = {
    KIND_TYPED: ("人工录入（如公开掷骰）", "typed in (e.g. dice rolled in public)"),
    KIND_BEACON: (
        "drand 公共随机信标（quicknet）",
        "the drand public randomness beacon (quicknet)",
    ),
}

_SIGNATURE = re.compile(r"[0-9a-f]{96}")  # a compressed G1 point: 48 bytes
_HEX64 = re.compile(r"[0-9a-f]{64}")


class BeaconError(SupervisionError):
    """A beacon round that cannot be used: malformed, unverifiable or not the committed one."""


@dataclass(frozen=True)
class BeaconRound:
    """A round as published by drand: the proof (chain, round, signature) of a seed."""

    round: int
    signature: str
    chain_hash: str = CHAIN_HASH

    def to_dict(self) -> dict[str, Any]:
        """The proof as written to ``beacon.json`` and published on the notice."""
        return {"chain_hash": self.chain_hash, "round": self.round, "signature": self.signature}


# --------------------------------------------------------------------------- time
def round_at(moment: datetime) -> int:
    """The quicknet round published at ``moment`` (aware): floor((t - genesis) / period) + 1."""
    seconds = moment.astimezone(UTC).timestamp() - GENESIS
    if seconds < 0:
        raise BeaconError(
            f"时间 {moment.isoformat()} 早于 drand quicknet 的起始时间",
            f"{moment.isoformat()} is before the drand quicknet chain began",
        )
    return int(seconds // PERIOD) + 1


def round_time(number: int) -> datetime:
    """When round ``number`` is published: genesis + (round - 1) × period, aware UTC."""
    if number < 1:
        raise BeaconError(f"轮次须为正整数：{number}", f"a round is a positive number: {number}")
    return datetime.fromtimestamp(GENESIS, UTC) + timedelta(seconds=(number - 1) * PERIOD)


# --------------------------------------------------------------------------- input
def parse_round(data: str | bytes, *, source: str) -> BeaconRound:
    """A round from the JSON any drand endpoint returns (``/public/<round>``) or from an
    export's ``beacon.json``; every problem names ``source`` and the field.

    A ``randomness`` field, if present, must be SHA-256 of the signature; a non-empty
    ``previous_signature`` means a chained network, not quicknet; a ``chain_hash`` (or
    ``chain``) other than quicknet's is refused.
    """
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BeaconError(
            f"{source}：不是有效的 JSON（{exc}）", f"{source}: not valid JSON ({exc})"
        ) from None
    if not isinstance(value, dict):
        raise BeaconError(
            f"{source}：应为一个 JSON 对象（drand 返回的轮次）",
            f"{source}: must be a JSON object (a round as drand returns it)",
        )
    number = value.get("round")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise BeaconError(
            f"{source}：字段 round 应为正整数，实为 {number!r}",
            f"{source}: field 'round' must be a positive integer, got {number!r}",
        )
    if value.get("previous_signature"):
        raise BeaconError(
            f"{source}：带有 previous_signature，是链式网络（如 drand default）的轮次，不是 quicknet",
            f"{source}: has a previous_signature: a round of a chained network "
            "(e.g. drand default), not of quicknet",
        )
    signature = normalise_signature(value.get("signature"), source=source)
    chain = value.get("chain_hash", value.get("chain", CHAIN_HASH))
    if not isinstance(chain, str) or chain.strip().lower() != CHAIN_HASH:
        raise BeaconError(
            f"{source}：字段 chain_hash 为 {chain!r}，不是 drand quicknet 链（{CHAIN_HASH}）",
            f"{source}: field 'chain_hash' is {chain!r}, not the drand quicknet chain",
        )
    randomness = value.get("randomness")
    if randomness is not None and str(randomness).lower() != derive_randomness(signature):
        raise BeaconError(
            f"{source}：字段 randomness 不等于 signature 的 SHA-256",
            f"{source}: field 'randomness' is not the SHA-256 of the signature",
        )
    return BeaconRound(round=number, signature=signature)


def normalise_signature(value: Any, *, source: str = "signature") -> str:
    """A quicknet signature as 96 lower-case hex digits, or a BeaconError saying why not."""
    text = value.strip().lower() if isinstance(value, str) else value
    if not isinstance(text, str) or not _SIGNATURE.fullmatch(text):
        raise BeaconError(
            f"{source}：signature 应为 96 位十六进制（48 字节），实为 {value!r}",
            f"{source}: the signature must be 96 hex digits (48 bytes), got {value!r}",
        )
    return text


def derive_randomness(signature: str) -> str:
    """drand's randomness of a round: SHA-256 of the signature bytes, lower-case hex."""
    return hashlib.sha256(bytes.fromhex(signature)).hexdigest()


# --------------------------------------------------------------------------- verification
def verify(proof: BeaconRound, *, expected_round: int | None = None) -> str:
    """Verify a round's BLS signature against quicknet's public key; return its randomness.

    Refuses a round from another chain, a round other than ``expected_round`` (the committed
    one) and a signature that does not verify, each with a BeaconError.
    """
    if proof.chain_hash != CHAIN_HASH:
        raise BeaconError(
            f"轮次来自另一条链 {proof.chain_hash}，不是 drand quicknet",
            f"the round is from chain {proof.chain_hash}, not drand quicknet",
        )
    if expected_round is not None and proof.round != expected_round:
        earlier = proof.round < expected_round
        raise BeaconError(
            f"轮次 {proof.round} {'早于' if earlier else '不是'}锁定时公布的轮次 {expected_round}",
            f"round {proof.round} is {'earlier than' if earlier else 'not'} the round "
            f"{expected_round} committed to",
        )
    signature = normalise_signature(proof.signature)
    try:
        randomness = str(drand_verify.verify_quicknet(proof.round, signature, PUBLIC_KEY))
    except Exception:  # ValueError("Verification Failed"), or a point not on the curve
        raise BeaconError(
            f"第 {proof.round} 轮的签名验证失败：签名被改动，或不属于该轮 / 该链",
            f"the signature of round {proof.round} does not verify: it was altered, or it "
            "belongs to another round or chain",
        ) from None
    randomness = randomness.lower()
    if not _HEX64.fullmatch(randomness) or randomness != derive_randomness(signature):
        raise BeaconError(
            "drand-verify 返回的随机数与签名不符", "drand-verify returned unexpected randomness"
        )
    return randomness
