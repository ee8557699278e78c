"""API Gateway's quick create, which moto leaves out: an HTTP API made with a ``Target``.

For an HTTP API, ``CreateApi`` with ``Target`` (a Lambda function's ARN) makes the API together with an
AWS_PROXY integration to that function (payload format 2.0), a catch-all ``$default`` route to it and a
``$default`` stage that deploys itself. The kit deploys its winner API this way, so every call that
changes the API is one on the API itself, which IAM can scope by the API's tags
(hello_winners.deploy.policies): API Gateway's HTTP API routes and integrations carry no tags. moto
accepts the parameter and ignores it: this module adds what AWS makes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.apigatewayv2.responses import ApiGatewayV2Response

DEFAULT = "$default"


def install() -> None:
    """Make moto's CreateApi honour ``Target`` as AWS does (once per process, however often asked)."""
    if not getattr(ApiGatewayV2Response.create_api, "quick_create", False):
        ApiGatewayV2Response.create_api = _with_target(ApiGatewayV2Response.create_api)


def _with_target(respond: Callable) -> Callable:
    def responded(self: ApiGatewayV2Response) -> Any:
        status, headers, body = respond(self)
        target = json.loads(self.body or "{}").get("target")
        if target and int(status) < 300:
            api = self.apigatewayv2_backend.get_api(json.loads(body)["apiId"])
            if api.protocol_type == "HTTP":
                _quick(api, target)
        return status, headers, body

    responded.__name__ = respond.__name__
    responded.quick_create = True
    return responded


def _quick(api: Any, target: str) -> None:
    """The integration, the catch-all route and the auto-deployed stage of a quick-created API."""
    integration = api.create_integration(connection_type="INTERNET", description="", integration_method="POST",
                                         integration_type="AWS_PROXY", integration_uri=target,
                                         payload_format_version="2.0")
    api.create_route(api_key_required=False, authorization_scopes=[], route_key=DEFAULT,
                     target=f"integrations/{integration.id}", authorization_type="NONE")
    api.create_stage({"stageName": DEFAULT, "autoDeploy": True})
