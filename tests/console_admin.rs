//! The console's admin pages over HTTP, in-process, on both stores: only admins reach them,
//! every form carries the session's CSRF token, people added sign in, changing a person ends
//! their sessions, the last active admin stays one, a token's secret is shown once and the API
//! refuses a revoked token at once, webhooks refuse what the store refuses, and the projections
//! page shows positions and lag.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use obliged_storage::Role;

use crate::console::{between, field_in, Console, Page, PASSWORD};
use crate::support::{for_each_store, Backend};

for_each_store!(
    only_admins_reach_the_admin_pages_and_forms_need_the_csrf_token,
    a_person_added_signs_in_and_changes_to_them_end_their_sessions,
    the_last_active_admin_is_neither_disabled_nor_demoted,
    a_token_is_shown_once_and_the_api_refuses_it_once_revoked,
    webhooks_are_added_with_their_secret_and_refusals_keep_what_was_typed,
    the_projections_page_shows_positions_and_lag,
);

/// Every admin page, and every admin form with its fields.
const PAGES: &[&str] = &[
    "/admin",
    "/admin/people/root",
    "/admin/tokens",
    "/admin/webhooks",
    "/admin/projections",
];

/// The CSRF token of a page's forms (every form of a session carries the same one).
fn csrf(page: &Page) -> String {
    page.field("csrf")
}

async fn api_get(console: &Console, path: &str, token: &str) -> StatusCode {
    let request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    console.send(request).await.status
}

async fn only_admins_reach_the_admin_pages_and_forms_need_the_csrf_token(backend: Backend) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console
        .people(&[
            ("alice", Role::Agent),
            ("lena", Role::Lead),
            ("audrey", Role::Auditor),
            ("root", Role::Admin),
        ])
        .await;
    let root = console.sign_in("root").await;
    for path in PAGES {
        console
            .get(path, Some(&root))
            .await
            .assert_status(StatusCode::OK);
    }
    let token = field_in(&console.get("/admin", Some(&root)).await.body, "csrf");
    let posts: &[(&str, &[(&str, &str)])] = &[
        (
            "/admin/people",
            &[
                ("name", "mallory"),
                ("role", "admin"),
                ("password", PASSWORD),
            ],
        ),
        ("/admin/people/root/role", &[("role", "agent")]),
        ("/admin/people/root/password", &[("password", PASSWORD)]),
        ("/admin/people/root/disable", &[]),
        ("/admin/tokens", &[("name", "mallory"), ("role", "admin")]),
        ("/admin/webhooks", &[("url", "https://hooks.example.org/")]),
    ];
    for (name, _) in [("alice", 0), ("lena", 1), ("audrey", 2)] {
        let who = console.sign_in(name).await;
        let own = csrf(&console.get("/settings", Some(&who)).await);
        for path in PAGES {
            let refused = console.get(path, Some(&who)).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{name} {path}");
        }
        let live = console.get("/admin/projections/live", Some(&who)).await;
        assert_eq!(live.status, StatusCode::FORBIDDEN, "{name}");
        for (path, fields) in posts {
            let mut all = vec![("csrf", own.as_str())];
            all.extend_from_slice(fields);
            let refused = console.post(path, Some(&who), &all).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{name} {path}");
        }
    }
    // An admin's post without the session's token changes nothing.
    for (path, fields) in posts {
        let refused = console.post(path, Some(&root), fields).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert!(refused.body.contains("id=\"forbidden\""), "{path}");
    }
    assert!(console.app.accounts.find("mallory").await.is_err());
    assert!(console.app.tokens.list().await.expect("tokens").is_empty());
    assert_eq!(
        console.app.accounts.find("root").await.unwrap().role,
        Role::Admin
    );
    // The admin's session is still valid with the right token.
    console
        .get("/admin", Some(&root))
        .await
        .assert_status(StatusCode::OK);
    assert!(!token.is_empty());
}

async fn a_person_added_signs_in_and_changes_to_them_end_their_sessions(backend: Backend) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console.people(&[("root", Role::Admin)]).await;
    let root = console.sign_in("root").await;
    let token = csrf(&console.get("/admin", Some(&root)).await);

    // A weak password is refused beside the form; the name typed is kept, the password not.
    let weak = console
        .post(
            "/admin/people",
            Some(&root),
            &[
                ("csrf", &token),
                ("name", "bea"),
                ("role", "agent"),
                ("password", "short"),
            ],
        )
        .await;
    weak.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let form = between(&weak.body, "<form id=\"add-person\"", "</form>").expect("the form");
    assert!(form.contains("class=\"refusal\""), "{form}");
    assert!(form.contains("value=\"bea\""), "{form}");
    assert!(!form.contains("short"), "{form}");
    assert!(console.app.accounts.find("bea").await.is_err());

    let added = console
        .post(
            "/admin/people",
            Some(&root),
            &[
                ("csrf", &token),
                ("name", "bea"),
                ("role", "agent"),
                ("password", PASSWORD),
            ],
        )
        .await;
    added.assert_redirect("/admin/people/bea?done=added");
    // The same name again is refused.
    let again = console
        .post(
            "/admin/people",
            Some(&root),
            &[
                ("csrf", &token),
                ("name", "bea"),
                ("role", "lead"),
                ("password", PASSWORD),
            ],
        )
        .await;
    again.assert_status(StatusCode::UNPROCESSABLE_ENTITY);

    // Bea signs in; a role change ends her session, and she comes back a lead.
    let bea = console.sign_in("bea").await;
    console
        .get("/my-work", Some(&bea))
        .await
        .assert_status(StatusCode::OK);
    console
        .post(
            "/admin/people/bea/role",
            Some(&root),
            &[("csrf", &token), ("role", "lead")],
        )
        .await
        .assert_redirect("/admin/people/bea?done=role");
    console
        .get("/my-work", Some(&bea))
        .await
        .assert_redirect("/sign-in");
    assert_eq!(
        console.app.accounts.find("bea").await.unwrap().role,
        Role::Lead
    );
    // Integrations have no console account.
    console
        .post(
            "/admin/people/bea/role",
            Some(&root),
            &[("csrf", &token), ("role", "integration")],
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);

    // A new password ends her session; the old password no longer signs in.
    let bea = console.sign_in("bea").await;
    let new_password = "a brand new passphrase";
    console
        .post(
            "/admin/people/bea/password",
            Some(&root),
            &[("csrf", &token), ("password", new_password)],
        )
        .await
        .assert_redirect("/admin/people/bea?done=password");
    console
        .get("/my-work", Some(&bea))
        .await
        .assert_redirect("/sign-in");
    console
        .try_sign_in("bea", PASSWORD, None)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let bea = console
        .try_sign_in("bea", new_password, None)
        .await
        .cookie("obliged_session")
        .pair();

    // Disabling ends her session and she cannot sign in again.
    console
        .post(
            "/admin/people/bea/disable",
            Some(&root),
            &[("csrf", &token)],
        )
        .await
        .assert_redirect("/admin/people/bea?done=disabled");
    console
        .get("/my-work", Some(&bea))
        .await
        .assert_redirect("/sign-in");
    console
        .try_sign_in("bea", new_password, None)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let page = console.get("/admin/people/bea", Some(&root)).await;
    assert!(
        !page.body.contains("id=\"disable-person\""),
        "{}",
        page.body
    );
    console
        .get("/admin/people/nobody", Some(&root))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

async fn the_last_active_admin_is_neither_disabled_nor_demoted(backend: Backend) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console
        .people(&[("root", Role::Admin), ("ada", Role::Admin)])
        .await;
    let root = console.sign_in("root").await;
    let token = csrf(&console.get("/admin", Some(&root)).await);
    // Another admin may go: root disables ada.
    console
        .post(
            "/admin/people/ada/disable",
            Some(&root),
            &[("csrf", &token)],
        )
        .await
        .assert_redirect("/admin/people/ada?done=disabled");
    // Root is now the last: neither demoted nor disabled, by the console or the store.
    for (path, fields) in [
        (
            "/admin/people/root/role",
            vec![("csrf", token.as_str()), ("role", "agent")],
        ),
        ("/admin/people/root/disable", vec![("csrf", token.as_str())]),
    ] {
        let refused = console.post(path, Some(&root), &fields).await;
        refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("class=\"refusal\""), "{path}");
    }
    assert!(console.app.accounts.disable("root").await.is_err());
    assert!(console
        .app
        .accounts
        .set_role("root", Role::Lead)
        .await
        .is_err());
    let still = console.app.accounts.find("root").await.unwrap();
    assert_eq!((still.role, still.disabled_at), (Role::Admin, None));
    console
        .get("/admin", Some(&root))
        .await
        .assert_status(StatusCode::OK);

    // With another admin, root may demote themselves: their session ends.
    console.people(&[("cleo", Role::Admin)]).await;
    let demoted = console
        .post(
            "/admin/people/root/role",
            Some(&root),
            &[("csrf", &token), ("role", "agent")],
        )
        .await;
    demoted.assert_redirect("/sign-in");
    console
        .get("/admin", Some(&root))
        .await
        .assert_redirect("/sign-in");
    assert_eq!(
        console.app.accounts.find("root").await.unwrap().role,
        Role::Agent
    );
}

async fn a_token_is_shown_once_and_the_api_refuses_it_once_revoked(backend: Backend) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console.people(&[("root", Role::Admin)]).await;
    let root = console.sign_in("root").await;
    let token = csrf(&console.get("/admin/tokens", Some(&root)).await);
    let created = console
        .post(
            "/admin/tokens",
            Some(&root),
            &[("csrf", &token), ("name", "crm-sync"), ("role", "agent")],
        )
        .await;
    created.assert_status(StatusCode::OK);
    assert_eq!(created.header("cache-control"), "no-store");
    let secret = between(
        &created.body,
        "id=\"new-token-secret\" class=\"secret-value\" aria-describedby=\"token-secret-hint\">",
        "</code>",
    )
    .expect("the secret on the page")
    .to_owned();
    assert!(secret.starts_with("obl_"), "{secret}");
    // Never again: not on the list, not in the store.
    let list = console.get("/admin/tokens", Some(&root)).await;
    assert!(!list.body.contains(&secret));
    assert!(list.body.contains("data-name=\"crm-sync\""));
    assert!(!crate::support::dump(&console.store).await.contains(&secret));

    // The API accepts it.
    assert_eq!(
        api_get(&console, "/api/complaints", &secret).await,
        StatusCode::OK
    );
    // An active token's name is not taken twice.
    let taken = console
        .post(
            "/admin/tokens",
            Some(&root),
            &[("csrf", &token), ("name", "crm-sync"), ("role", "lead")],
        )
        .await;
    taken.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.body.contains("value=\"crm-sync\""));

    let id = console.app.tokens.list().await.unwrap()[0].id;
    console
        .post(
            &format!("/admin/tokens/{id}/revoke"),
            Some(&root),
            &[("csrf", &token)],
        )
        .await
        .assert_redirect("/admin/tokens?done=revoked");
    assert_eq!(
        api_get(&console, "/api/complaints", &secret).await,
        StatusCode::UNAUTHORIZED
    );
    // Revoking twice is no error.
    console
        .post(
            &format!("/admin/tokens/{id}/revoke"),
            Some(&root),
            &[("csrf", &token)],
        )
        .await
        .assert_redirect("/admin/tokens?done=revoked");
}

async fn webhooks_are_added_with_their_secret_and_refusals_keep_what_was_typed(backend: Backend) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console.people(&[("root", Role::Admin)]).await;
    let root = console.sign_in("root").await;
    let token = csrf(&console.get("/admin/webhooks", Some(&root)).await);
    for (url, events, attempts) in [
        ("ftp://hooks.example.org/", "", ""),
        ("http://127.0.0.1:9/hook", "", ""),
        ("https://hooks.example.org/ a", "", ""),
        ("https://hooks.example.org/hook", "contact-logged", ""),
        ("https://hooks.example.org/hook", "", "0"),
        ("https://hooks.example.org/hook", "", "many"),
    ] {
        let refused = console
            .post(
                "/admin/webhooks",
                Some(&root),
                &[
                    ("csrf", &token),
                    ("url", url),
                    ("event_types", events),
                    ("max_attempts", attempts),
                ],
            )
            .await;
        refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let form = between(&refused.body, "<form id=\"add-webhook\"", "</form>").expect("form");
        assert!(form.contains("class=\"refusal\""), "{url}: {form}");
        assert!(form.contains("aria-invalid=\"true\""), "{url}: {form}");
    }
    assert!(console.app.webhooks.list().await.unwrap().is_empty());

    let created = console
        .post(
            "/admin/webhooks",
            Some(&root),
            &[
                ("csrf", &token),
                ("url", "https://hooks.example.org/hook"),
                ("event_types", "ContactLogged, PromiseBroken"),
                ("start", "beginning"),
                ("max_attempts", "3"),
            ],
        )
        .await;
    created.assert_status(StatusCode::OK);
    let secret = between(
        &created.body,
        "aria-describedby=\"webhook-secret-hint\">",
        "</code>",
    )
    .expect("the secret")
    .to_owned();
    assert!(secret.starts_with("whsec_"));
    let id = console.app.webhooks.list().await.unwrap()[0]
        .subscription
        .id;
    let list = console.get("/admin/webhooks", Some(&root)).await;
    assert!(list.body.contains(&format!("data-webhook=\"{id}\"")));
    assert!(!list.body.contains(&secret));

    let page = console
        .get(&format!("/admin/webhooks/{id}"), Some(&root))
        .await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("id=\"dead-letters-empty\""));
    assert!(!page.body.contains(&secret));
    // Redelivery from a position the ledger does not hold, or from no number, is refused.
    for from in ["99", "zero", "0"] {
        let refused = console
            .post(
                &format!("/admin/webhooks/{id}/redeliver"),
                Some(&root),
                &[("csrf", &token), ("from", from)],
            )
            .await;
        refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains(&format!("value=\"{from}\"")),
            "{from}"
        );
    }
    console
        .post(
            &format!("/admin/webhooks/{id}/redeliver"),
            Some(&root),
            &[("csrf", &token), ("from", "1")],
        )
        .await
        .assert_redirect(&format!("/admin/webhooks/{id}?done=redeliver"));
    console
        .post(
            &format!("/admin/webhooks/{id}/remove"),
            Some(&root),
            &[("csrf", &token)],
        )
        .await
        .assert_redirect("/admin/webhooks?done=removed");
    assert!(!console.app.webhooks.get(id).await.unwrap().is_active());
    let removed = console
        .post(
            &format!("/admin/webhooks/{id}/redeliver"),
            Some(&root),
            &[("csrf", &token), ("from", "1")],
        )
        .await;
    removed.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
}

async fn the_projections_page_shows_positions_and_lag(backend: Backend) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console.people(&[("root", Role::Admin)]).await;
    let root = console.sign_in("root").await;
    let page = console.get("/admin/projections", Some(&root)).await;
    page.assert_status(StatusCode::OK);
    assert!(
        page.body.contains("data-consumer=\"complaints\""),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("sse-connect=\"/admin/projections/live?shown="));
    console.app.checkpoints.set("nats:test", 0).await.unwrap();
    let page = console.get("/admin/projections", Some(&root)).await;
    assert!(
        page.body
            .contains("data-consumer=\"nats:test\" data-kind=\"publisher\""),
        "{}",
        page.body
    );
}
