/* Sign-in for the page in AWS: OAuth 2.0 authorization code flow with PKCE against the Cognito user pool's
   hosted sign-in (public app client, no secret). The access token is kept in sessionStorage (gone when the
   tab closes) and sent as a Bearer token; the page itself is fetched with it (API Gateway's JWT authorizer
   reads only a header or a query parameter, so a plain navigation to the page could not carry it) and
   written into this document. */
"use strict";
(() => {
  const TOKEN_KEY = "rossmann.token";
  const PKCE_KEY = "rossmann.pkce";
  const config = JSON.parse(document.getElementById("signin-config").textContent);
  const redirectUri = location.origin + location.pathname;

  function status(text, offerRetry) {
    document.getElementById("status").textContent = text;
    document.getElementById("again").hidden = !offerRetry;
  }

  const base64url = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const random = (bytes) => base64url(crypto.getRandomValues(new Uint8Array(bytes)));

  function savedToken() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || "null");
      return saved && saved.expires_at > Date.now() ? saved.access_token : null;
    } catch (error) {
      return null;
    }
  }

  async function authorize() {
    const verifier = random(48);
    const nonce = random(16);
    const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state: nonce }));
    const query = new URLSearchParams({
      response_type: "code", client_id: config.client_id, redirect_uri: redirectUri, scope: "openid email",
      state: nonce, code_challenge: challenge, code_challenge_method: "S256",
    });
    location.assign(`${config.domain}/oauth2/authorize?${query}`);
  }

  async function exchange(code, returnedState) {
    const pkce = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
    sessionStorage.removeItem(PKCE_KEY);
    history.replaceState(null, "", location.pathname);
    if (!pkce || pkce.state !== returnedState) {
      throw new Error("the sign-in answer does not belong to this browser tab's request");
    }
    const response = await fetch(`${config.domain}/oauth2/token`, {
      method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code", client_id: config.client_id, code, redirect_uri: redirectUri,
        code_verifier: pkce.verifier,
      }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok || !body.access_token) {
      throw new Error(`the sign-in service refused the code (${body.error || "HTTP " + response.status})`);
    }
    const expiresIn = Number(body.expires_in) || 3600;
    sessionStorage.setItem(TOKEN_KEY, JSON.stringify({
      access_token: body.access_token, expires_at: Date.now() + 1000 * (expiresIn - 60),
    }));
    return body.access_token;
  }

  async function openPage(accessToken) {
    status("Loading the page…", false);
    const response = await fetch("./", { headers: { Authorization: "Bearer " + accessToken } });
    if (response.status === 401 || response.status === 403) {
      sessionStorage.removeItem(TOKEN_KEY);
      throw new Error("the page did not accept the sign-in");
    }
    if (!response.ok) throw new Error(`the page answered HTTP ${response.status}`);
    const html = await response.text();
    document.open();
    document.write(html);
    document.close();
  }

  async function main() {
    if (!config.domain) {
      status("Sign-in is not configured on this server: the page needs none here, it is at ./", false);
      return;
    }
    const params = new URLSearchParams(location.search);
    if (params.has("error")) {
      history.replaceState(null, "", location.pathname);
      status(`Sign-in failed: ${params.get("error_description") || params.get("error")}.`, true);
      return;
    }
    const accessToken = params.has("code") ? await exchange(params.get("code"), params.get("state")) : savedToken();
    if (!accessToken) {
      await authorize();
      return;
    }
    await openPage(accessToken);
  }

  main().catch((error) => status(`Sign-in failed: ${error.message}.`, true));
})();
