"""Security headers sent with every console and served-site response.

The pages carry no inline script, inline style or event-handler attribute (templates/
README.md), so the Content-Security-Policy allows scripts, styles and images from the
site itself only; ``frame-ancestors 'none'`` (and the older X-Frame-Options) forbid
framing (clickjacking); ``nosniff`` stops a browser guessing a script out of a data
file; the Referrer-Policy keeps search terms in URLs from leaking to other sites.
"""

from __future__ import annotations

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS"]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

#: Name → value, added to every response (a response's own value of a name wins).
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
