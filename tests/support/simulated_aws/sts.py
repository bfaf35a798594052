"""STS in the simulation, and who signed each request.

moto 5.2.5 implements AssumeRole (AWS query protocol) and hands out temporary `ASIA...` keys: the fault
proxy forwards it, no stand-in. What the proxy reads from every request, whatever the service, is the
SigV4 credential scope (`signer`): the service it was signed for (monitoring, ses, sts, sqs, ...) and
the access key, so a test tells the base identity's calls from those signed with a role's credentials.
"""

from __future__ import annotations

from typing import Any

CREDENTIAL = "Credential="


def signer(headers: Any) -> tuple[str, str]:
    """(service, access key) from the Authorization header; ("", "") when the request is not signed."""
    auth = headers.get("Authorization", "")
    if CREDENTIAL not in auth:
        return "", ""
    # Credential=<key>/<date>/<region>/<service>/aws4_request
    scope = auth.split(CREDENTIAL, 1)[1].split(",", 1)[0].split("/")
    return (scope[3] if len(scope) > 3 else ""), scope[0]
