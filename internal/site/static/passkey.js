// Passkeys for the latch site: the WebAuthn calls a page cannot make
// without a script. A button with data-passkey="register" or "login" runs
// one ceremony: it asks the server for options (data-begin), hands them to
// the browser's authenticator, sends the answer back (data-finish) and
// follows the redirect the server answers. Buttons stay hidden where the
// browser cannot do passkeys; the rest of the site works without scripts.
"use strict";
(() => {
  const supported = window.PublicKeyCredential && navigator.credentials;

  const decode = (s) => {
    const b = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(b, (c) => c.charCodeAt(0)).buffer;
  };
  const encode = (buf) => {
    let s = "";
    for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  // The server's options (JSON, binary fields as base64url) as the
  // browser's API wants them (ArrayBuffers).
  const creationOptions = ({ publicKey: pk }) => {
    pk.challenge = decode(pk.challenge);
    pk.user.id = decode(pk.user.id);
    for (const c of pk.excludeCredentials || []) c.id = decode(c.id);
    return { publicKey: pk };
  };
  const requestOptions = ({ publicKey: pk, mediation }) => {
    pk.challenge = decode(pk.challenge);
    for (const c of pk.allowCredentials || []) c.id = decode(c.id);
    return mediation ? { publicKey: pk, mediation } : { publicKey: pk };
  };

  // The browser's answer as JSON, binary fields as base64url.
  const answer = (cred) => {
    const r = cred.response;
    const response = { clientDataJSON: encode(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = encode(r.attestationObject);
      if (r.getTransports) response.transports = r.getTransports();
    } else {
      response.authenticatorData = encode(r.authenticatorData);
      response.signature = encode(r.signature);
      if (r.userHandle) response.userHandle = encode(r.userHandle);
    }
    return JSON.stringify({
      id: cred.id,
      rawId: encode(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults(),
      response,
    });
  };

  const post = async (url, body) => {
    const res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: body || "{}",
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || "The server did not answer. Please try again.");
    return data;
  };

  const withQuery = (url, params) => {
    const u = new URL(url, location.href);
    for (const [k, v] of Object.entries(params)) if (v) u.searchParams.set(k, v);
    return u.pathname + u.search;
  };

  const run = async (button) => {
    const d = button.dataset;
    const errorBox = button.parentElement.querySelector("[data-passkey-error]");
    errorBox.hidden = true;
    button.disabled = true;
    try {
      const options = await post(d.begin);
      let cred;
      if (d.passkey === "register") {
        cred = await navigator.credentials.create(creationOptions(options));
      } else {
        cred = await navigator.credentials.get(requestOptions(options));
      }
      const params = {};
      if (d.name) params.name = document.getElementById(d.name).value;
      if (d.next) params.next = d.next;
      if (d.remember && document.getElementsByName(d.remember)[0]?.checked) params.remember = "1";
      const done = await post(withQuery(d.finish, params), answer(cred));
      location.assign(done.redirect);
    } catch (e) {
      errorBox.textContent = e.name === "NotAllowedError"
        ? "No passkey was used: the request was cancelled or timed out."
        : e.name === "InvalidStateError"
          ? "This device holds a passkey for your account already."
          : e.message;
      errorBox.hidden = false;
      button.disabled = false;
    }
  };

  for (const button of document.querySelectorAll("button[data-passkey]")) {
    if (!supported) continue;
    button.hidden = false;
    button.addEventListener("click", () => run(button));
  }
  if (supported) {
    for (const note of document.querySelectorAll("[data-passkey-unsupported]")) note.hidden = true;
  }
})();
