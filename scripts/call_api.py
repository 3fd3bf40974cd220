"""Call the forecast API with a SigV4-signed request (the deployed HTTP API accepts nothing else).

    .venv/bin/python scripts/call_api.py https://ID.execute-api.eu-central-1.amazonaws.com GET /health
    .venv/bin/python scripts/call_api.py URL POST /forecasts '{"stores": [1, 2], "horizon_days": 14}'

Credentials come from the usual AWS chain (environment, profile, SSO, instance role); the identity
needs ``execute-api:Invoke`` on the API. The region is read from the URL (else AWS_DEFAULT_REGION).
"""

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest


def signed_request(url: str, method: str, body: str | None, region: str) -> urllib.request.Request:
    """A urllib request carrying SigV4 headers for service ``execute-api``."""
    credentials = boto3.Session().get_credentials()
    if credentials is None:
        raise SystemExit("no AWS credentials found (environment, profile or role)")
    headers = {"content-type": "application/json"} if body is not None else {}
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
    data = body.encode() if body is not None else None
    return urllib.request.Request(url, data=data, headers=dict(request.headers.items()), method=method)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base_url")
    parser.add_argument("method", choices=["GET", "POST"])
    parser.add_argument("path")
    parser.add_argument("body", nargs="?")
    args = parser.parse_args()
    match = re.search(r"\.execute-api\.([a-z0-9-]+)\.", args.base_url)
    region = match.group(1) if match else os.environ.get("AWS_DEFAULT_REGION", "eu-central-1")
    url = args.base_url.rstrip("/") + args.path
    try:
        with urllib.request.urlopen(signed_request(url, args.method, args.body, region), timeout=60) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    print(status, file=sys.stderr)
    try:
        print(json.dumps(json.loads(payload), indent=2))
    except ValueError:
        print(payload.decode(errors="replace"))
    return 0 if status < 400 else 1


if __name__ == "__main__":
    sys.exit(main())
