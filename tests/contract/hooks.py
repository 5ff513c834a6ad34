"""Schemathesis hooks for the contract run (loaded through SCHEMATHESIS_HOOKS).

Only loopback addresses may be targeted: a webhook subscription that schemathesis creates would
make the server deliver events to whatever URL it generated. Before each call, the host of a
well-formed webhook URL in a request body is replaced by a closed port on 127.0.0.1, so every
delivery attempt stays on this machine and fails at once. The rest of the URL is kept, and a URL
outside the contract's shape is left alone (the server must refuse it), so what the check of the
response expects does not change.
"""

import re

import schemathesis

# The contract's pattern of a webhook URL (SubscribeBody.url).
WELL_FORMED = re.compile(r"^([Hh][Tt][Tt][Pp][Ss]?://)([!-\"$-~]+)$")
LOOPBACK = "127.0.0.1:9"


def _to_loopback(url):
    match = WELL_FORMED.fullmatch(url)
    if match is None:
        return url
    scheme, rest = match.groups()
    cut = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0], default=len(rest))
    return f"{scheme}{LOOPBACK}{rest[cut:]}"


@schemathesis.hook
def before_call(context, case, **kwargs):
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("url"), str):
        body["url"] = _to_loopback(body["url"])
