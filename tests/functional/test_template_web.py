"""template.yaml's web page wiring: a Cognito JWT on every route the page uses (only /signin without), routes
that exist in the app and cover every call the page makes, a browser-safe app client, no self sign-up."""

import re

import pytest
from fastapi.testclient import TestClient

from api_support import serve_from
from forecast_api import page
from forecast_api.application import create_app
from rossmann_core.serving.settings import WEB_CLIENT_ID_ENV, WEB_SIGNIN_DOMAIN_ENV
from scripts.stack.template import load_template, resources_of_type

template = load_template()
resources = template["Resources"]
routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in resources_of_type(
    template, "AWS::ApiGatewayV2::Route").values() if r["Properties"]["ApiId"] == {"Ref": "WebHttpApi"}}


def test_every_web_route_but_signin_needs_a_token_of_the_page_client() -> None:
    assert routes.pop("GET /signin")["AuthorizationType"] == "NONE"
    assert routes and all(r["AuthorizationType"] == "JWT" and r["AuthorizerId"] == {"Ref": "WebJwtAuthorizer"}
                          for r in routes.values())
    authorizer = resources["WebJwtAuthorizer"]["Properties"]
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    assert authorizer["JwtConfiguration"] == {"Issuer": {"Fn::Sub": "https://${FinanceUserPool.ProviderURL}"},
                                              "Audience": [{"Ref": "WebPageClient"}]}


def test_web_routes_exist_in_the_app_and_cover_every_call_of_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    serve_from(monkeypatch, None)
    keys = set(routes)
    with TestClient(create_app()) as client:
        for key in keys:
            method, path = key.split(" ", 1)
            response = client.request(method, path.replace("{store_id}", "1"), json={})
            assert response.status_code not in (404, 405), (key, response.text)
    source = (page.WEB_DIR / "app.js").read_text()
    called = {re.sub(r"\$\{[^}]+\}", "{store_id}", path) for path in re.findall(r"api\(\s*[`\"]([^`\"]+)", source)}
    assert called and {"/" + path for path in called} <= {key.split(" ", 1)[1] for key in keys}


def test_the_page_client_is_a_public_pkce_client_of_an_invite_only_pool() -> None:
    client = resources["WebPageClient"]["Properties"]
    assert client["GenerateSecret"] is False and client["AllowedOAuthFlows"] == ["code"]
    callback = {"Fn::Sub": "https://${WebHttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/signin"}
    assert client["CallbackURLs"] == [callback]
    pool = resources["FinanceUserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}


def test_the_function_gets_the_signin_settings_and_both_apis_may_invoke_it() -> None:
    variables = resources["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert variables[WEB_CLIENT_ID_ENV] == {"Ref": "WebPageClient"} and WEB_SIGNIN_DOMAIN_ENV in variables
    permission = resources["WebInvokePermission"]["Properties"]
    assert permission["FunctionName"] == {"Ref": "ApiFunction"}
    assert resources["WebIntegration"]["Properties"]["IntegrationUri"] == {"Fn::GetAtt": ["ApiFunction", "Arn"]}
    assert resources["WebStage"]["Properties"]["StageName"] == "$default"
