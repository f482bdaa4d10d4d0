"""Fetching a drand quicknet round over HTTPS (httpx): several endpoints, timeouts, retries.

Each endpoint is asked for ``<endpoint>/<chain hash>/public/<round>``; the first answer that
parses and verifies (``draw.beacon.verify``) wins. A round that does not exist yet (drand
answers 404 or 425 before its time), a timeout, a refused connection or a garbage answer
moves on to the next endpoint; after ``attempts`` passes over all of them the error lists
what each endpoint said. Endpoints and timeout come from $SUPERVISION_BEACON_URLS and
$SUPERVISION_BEACON_TIMEOUT (``supervision.settings``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx

from supervision.draw.beacon import CHAIN_HASH, BeaconError, BeaconRound, parse_round, verify
from supervision.settings import settings


class BeaconUnavailable(BeaconError):
    """No endpoint gave a verified round (yet)."""


def beacon_endpoints() -> tuple[str, ...]:
    """The endpoints to ask, from $SUPERVISION_BEACON_URLS (comma-separated)."""
    return tuple(u.strip().rstrip("/") for u in settings().beacon_urls.split(",") if u.strip())


def fetch_round(
    number: int,
    *,
    endpoints: Sequence[str] | None = None,
    timeout: float | None = None,
    attempts: int = 2,
    pause: float = 0.5,
) -> BeaconRound:
    """The verified round ``number`` from the first endpoint that has it."""
    urls = tuple(endpoints) if endpoints is not None else beacon_endpoints()
    seconds = timeout if timeout is not None else settings().beacon_timeout
    problems: list[str] = []
    with httpx.Client(timeout=seconds, follow_redirects=False) as client:
        for attempt in range(max(1, attempts)):
            if attempt:
                time.sleep(pause)
            for base in urls:
                url = f"{base}/{CHAIN_HASH}/public/{number}"
                try:
                    proof = _ask(client, url)
                    verify(proof, expected_round=number)
                    return proof
                except BeaconError as exc:
                    problems.append(f"{url}: {exc.zh} / {exc.en}")
                except httpx.TimeoutException:
                    problems.append(f"{url}: 超时（{seconds} 秒）/ timed out after {seconds} s")
                except httpx.HTTPError as exc:
                    problems.append(f"{url}: 连接失败 / request failed: {exc}")
    raise BeaconUnavailable(
        f"没有一个 drand 端点给出经过验证的第 {number} 轮（共尝试 {len(problems)} 次）",
        f"no drand endpoint gave a verified round {number} ({len(problems)} tries)",
        details=problems,
    )


def _ask(client: httpx.Client, url: str) -> BeaconRound:
    response = client.get(url, headers={"Accept": "application/json"})
    if response.status_code in (404, 425):
        raise BeaconError(
            f"该轮次尚未产生（HTTP {response.status_code}）",
            f"the round does not exist yet (HTTP {response.status_code})",
        )
    if response.status_code != 200:
        raise BeaconError(f"HTTP {response.status_code}", f"HTTP {response.status_code}")
    if len(response.content) > 4096:
        raise BeaconError("回答过长，不是 drand 轮次", "the answer is too long for a drand round")
    return parse_round(response.content, source=url)
