"""Sign-in (OIDC authorization code + PKCE), sign-out, and the purpose a user is consulting for."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mpdb.auth.tokens import TokenError
from mpdb.console.gateway import DatabaseUnavailable
from mpdb.domain.errors import ServiceUnavailable
from mpdb.console.oidc import OidcClient, SignInError
from mpdb.console.sessions import LOGIN_COOKIE, LOGIN_TTL_SECONDS, SESSION_COOKIE, ConsoleSession
from mpdb.console.web import (
    checked_form,
    current_session,
    redirect,
    render,
    safe_next,
    session_store,
    signed_in,
)

log = logging.getLogger("mpdb.console.auth")
router = APIRouter(include_in_schema=False)

CALLBACK_PATH = "/auth/callback"
SIGNED_OUT_PATH = "/auth/signed-out"
# The purposes a user picks from (free text is allowed as well); sent as X-MPDB-Purpose would be.
PURPOSES = (
    "Locating a missing child",
    "Safeguarding: assessing risk to a child",
    "Investigating a crime against a child",
    "Statutory duty: return interview or placement notification",
    "Analysis of patterns (aggregates)",
    "Audit of access to records",
)
MAX_PURPOSE_LENGTH = 300


def _oidc(request: Request) -> OidcClient:
    return request.app.state.console_oidc  # type: ignore[no-any-return]


def _base_url(request: Request) -> str:
    configured = request.app.state.settings.console_base_url
    return (configured or str(request.base_url)).rstrip("/")


def _cookie_kwargs(request: Request) -> dict[str, object]:
    return {"httponly": True, "secure": request.app.state.settings.console_cookie_secure, "samesite": "lax"}


@router.get("/login")
async def login(request: Request, next: str = "/", login_hint: str | None = None) -> Response:  # noqa: A002
    if current_session(request) is not None:
        return redirect(safe_next(next))
    pending = session_store(request).begin_login(f"{_base_url(request)}{CALLBACK_PATH}", safe_next(next))
    try:
        url = await _oidc(request).authorization_url(
            redirect_uri=pending.redirect_uri, state=pending.state, nonce=pending.nonce,
            code_verifier=pending.code_verifier, login_hint=(login_hint or None) and login_hint[:100],
        )
    except SignInError as exc:
        return render(request, "pages/sign_in_failed.html", 503, message=str(exc))
    response = redirect(url, 302)
    # SameSite=Lax: the provider sends the browser back with a top-level GET, which Lax allows.
    response.set_cookie(LOGIN_COOKIE, pending.state, max_age=int(LOGIN_TTL_SECONDS), path=CALLBACK_PATH,
                        **_cookie_kwargs(request))  # type: ignore[arg-type]
    return response


@router.get(CALLBACK_PATH)
async def callback(request: Request, state: str = "", code: str = "", error: str = "",
                   error_description: str = "") -> Response:
    store = session_store(request)
    # The state must be the one this browser was sent with (login CSRF), and unused.
    cookie_state = request.cookies.get(LOGIN_COOKIE, "")
    pending = store.finish_login(state) if state and state == cookie_state else None
    if pending is None:
        return _failed(request, "This sign-in link has expired or was not started in this browser. "
                                "Please sign in again.")
    if error:
        detail = "access was denied" if error == "access_denied" else error[:60]
        return _failed(request, f"The sign-in service did not sign you in ({detail}).")
    if not code:
        return _failed(request, "The sign-in service returned no authorization code.")
    try:
        tokens = await _oidc(request).exchange_code(code=code, redirect_uri=pending.redirect_uri,
                                                    code_verifier=pending.code_verifier, nonce=pending.nonce)
        principal = await request.app.state.verifier.verify(tokens.access_token)
    except SignInError as exc:
        return _failed(request, str(exc))
    except ServiceUnavailable as exc:  # the agency registry is in the database: not a refusal
        raise DatabaseUnavailable(exc.retry_after_s) from None
    except TokenError as exc:
        log.info("console sign-in refused: %s", exc.reason or type(exc).__name__)
        return _failed(request, "Your account is not allowed to use mpdb "
                                f"({exc}). Ask your agency's mpdb administrator.")
    claims = tokens.id_token_claims
    if claims.get("sub") != principal.subject:
        return _failed(request, "The sign-in could not be verified (the ID token and access token name "
                                "different users). Please sign in again.")
    session = store.create(
        principal=principal, access_token=tokens.access_token, id_token=tokens.id_token,
        user_name=str(claims.get("name") or principal.subject)[:120],
        agency_name=str(claims.get("agency_name") or principal.agency_id)[:120],
        expires_at=tokens.expires_at,
    )
    log.info("console sign-in: agency %s, role %s", principal.agency_id, principal.role.value)
    response = redirect(pending.next_url)
    response.set_cookie(SESSION_COOKIE, session.id, path="/", **_cookie_kwargs(request))  # type: ignore[arg-type]
    response.delete_cookie(LOGIN_COOKIE, path=CALLBACK_PATH)
    return response


def _failed(request: Request, message: str) -> Response:
    response = render(request, "pages/sign_in_failed.html", 400, message=message)
    response.delete_cookie(LOGIN_COOKIE, path=CALLBACK_PATH)
    return response


@router.post("/logout")
async def logout(request: Request, form: Annotated[dict[str, str], Depends(checked_form)]) -> Response:
    session = session_store(request).delete(request.cookies.get(SESSION_COOKIE))
    target = SIGNED_OUT_PATH
    if session is not None:
        try:
            target = await _oidc(request).logout_url(f"{_base_url(request)}{SIGNED_OUT_PATH}",
                                                     session.id_token) or SIGNED_OUT_PATH
        except SignInError:
            target = SIGNED_OUT_PATH  # signed out here; the provider's session ends on its own
    response = redirect(target)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get(SIGNED_OUT_PATH)
async def signed_out(request: Request) -> Response:
    return render(request, "pages/signed_out.html")


@router.get("/purpose")
async def purpose_form(request: Request, session: Annotated[ConsoleSession, Depends(signed_in)],
                       next: str = "/") -> Response:  # noqa: A002
    return render(request, "pages/purpose.html", purposes=PURPOSES, next_url=safe_next(next),
                  chosen=None, case_reference="", errors={})


@router.post("/purpose")
async def purpose_submit(request: Request, form: Annotated[dict[str, str], Depends(checked_form)]) -> Response:
    session: ConsoleSession = request.state.console_session
    chosen = form.get("purpose", "").strip()
    other = form.get("other", "").strip()
    case_reference = form.get("case_reference", "").strip()
    next_url = safe_next(form.get("next"))
    errors: dict[str, str] = {}
    if chosen == "other":
        chosen = other
        if not chosen:
            errors["other"] = "Enter why you are consulting records"
    elif chosen not in PURPOSES:
        errors["purpose"] = "Select why you are consulting records"
    if len(chosen) > MAX_PURPOSE_LENGTH:
        errors["other"] = f"The purpose must be {MAX_PURPOSE_LENGTH} characters or fewer"
    if len(case_reference) > 60 or any(ord(c) < 32 for c in case_reference):
        errors["case_reference"] = "A case reference is at most 60 characters, letters, digits and punctuation"
    if any(ord(c) < 32 for c in chosen):
        errors["other"] = "The purpose cannot contain control characters"
    if errors:
        return render(request, "pages/purpose.html", 400, purposes=PURPOSES, next_url=next_url,
                      chosen=form.get("purpose"), other=other, case_reference=case_reference, errors=errors)
    session_store(request).set_purpose(session, f"{chosen} (case {case_reference})" if case_reference else chosen)
    return redirect(next_url)
