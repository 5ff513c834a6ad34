//! The web console over HTTP, in-process, on both stores: the router `obliged serve` answers
//! with (`App::router`), driven as a browser without script would drive it. Signing in (the
//! pairing cookie, the session cookie's attributes, throttling), the CSRF token of every form,
//! what each role sees and may post, refusals explained beside their form, a form posted twice,
//! sessions that end at once (sign-out, a disabled account, a reset password, idle and
//! absolute expiry on the test clock), a live complaint page, the language of pages, the
//! security headers, and what My work lists.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, BodyDataStream};
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use jiff::SignedDuration;
use obliged::app::App;
use obliged::scheduler::{Scheduler, Tick};
use obliged_domain::{Clock, FixedClock, Policy};
use obliged_http::ServerLimits;
use obliged_storage::{Disclosure, MasterKey, Role};
use tower::ServiceExt;
use uuid::Uuid;

use crate::support::{for_each_store, t0, Backend, TestStore};

for_each_store!(
    signing_in_pairs_the_form_with_its_cookie_and_sets_a_strict_session_cookie,
    sign_in_attempts_are_throttled_per_account_not_per_address,
    a_form_without_the_sessions_csrf_token_is_refused_and_appends_nothing,
    each_role_sees_and_may_post_only_what_it_may_do,
    a_refusal_is_explained_beside_its_form_with_what_was_typed_kept,
    a_form_posted_twice_appends_once,
    sessions_end_at_sign_out_when_disabled_and_when_the_password_is_reset,
    sessions_expire_when_idle_and_after_their_lifetime_however_busy,
    a_live_complaint_page_shows_anothers_change_and_ends_with_its_session,
    pages_speak_the_browsers_language_until_the_person_chooses_one,
    console_pages_carry_the_security_headers_and_the_api_still_answers_problems,
    my_work_lists_handovers_offered_and_deadlines_of_owned_complaints,
);

/// Every account's password in these tests (long enough for the account rules).
pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// How long a test waits for something that should happen (a stream event, a stream's end).
const PATIENCE: Duration = Duration::from_secs(10);

/// The console as `obliged serve` answers, on a fresh store, with a clock the test moves.
pub(crate) struct Console {
    pub(crate) app: App,
    pub(crate) router: Router,
    pub(crate) clock: FixedClock,
    // Last: the store outlives the app's pools.
    pub(crate) store: TestStore,
}

/// An answer, with its body as text.
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

/// One `Set-Cookie` of an answer: the cookie's value and its attributes as sent.
#[derive(Debug)]
pub(crate) struct SetCookie {
    name: String,
    value: String,
    attributes: Vec<String>,
}

impl SetCookie {
    /// Whether an attribute is present, compared without regard to case (`HttpOnly`,
    /// `SameSite=Strict`, `Path=/`).
    pub(crate) fn has(&self, attribute: &str) -> bool {
        self.attributes
            .iter()
            .any(|sent| sent.eq_ignore_ascii_case(attribute))
    }

    /// The value of a `name=value` attribute.
    pub(crate) fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find_map(|sent| {
            let (key, value) = sent.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }

    /// The pair a browser sends back in `Cookie`.
    pub(crate) fn pair(&self) -> String {
        format!("{}={}", self.name, self.value)
    }
}

/// The `Set-Cookie` headers of an answer, parsed.
fn set_cookies(headers: &HeaderMap) -> Vec<SetCookie> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|line| {
            let mut parts = line.split(';').map(str::trim);
            let (name, value) = parts.next()?.split_once('=')?;
            Some(SetCookie {
                name: name.to_owned(),
                value: value.to_owned(),
                attributes: parts.map(str::to_owned).collect(),
            })
        })
        .collect()
}

/// The text between the first `start` and the next `end` after it.
pub(crate) fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let length = text[from..].find(end)?;
    Some(&text[from..from + length])
}

/// How often `needle` occurs in `text`.
pub(crate) fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

/// `application/x-www-form-urlencoded` of `fields`.
fn form_body(fields: &[(&str, &str)]) -> String {
    fn encode(text: &str) -> String {
        text.bytes()
            .map(|byte| {
                if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                    (byte as char).to_string()
                } else {
                    format!("%{byte:02X}")
                }
            })
            .collect()
    }
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Page {
    #[track_caller]
    pub(crate) fn assert_status(&self, status: StatusCode) {
        assert_eq!(
            self.status, status,
            "unexpected status; page:\n{}",
            self.body
        );
    }

    /// Where a redirect points.
    pub(crate) fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
    }

    #[track_caller]
    pub(crate) fn assert_redirect(&self, to: &str) {
        self.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(self.location(), to);
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
    }

    #[track_caller]
    pub(crate) fn cookie(&self, name: &str) -> SetCookie {
        set_cookies(&self.headers)
            .into_iter()
            .find(|cookie| cookie.name == name)
            .unwrap_or_else(|| panic!("no Set-Cookie {name}; headers {:?}", self.headers))
    }

    /// The value of the first field `name` (a hidden input's value).
    #[track_caller]
    pub(crate) fn field(&self, name: &str) -> String {
        field_in(&self.body, name)
    }

    /// The HTML of the form with id `id` (to its `</form>`), if the page has it.
    pub(crate) fn form(&self, id: &str) -> Option<&str> {
        let start = self
            .body
            .find(&format!("<form class=\"command\" id=\"{id}\""))?;
        let length = self.body[start..].find("</form>")?;
        Some(&self.body[start..start + length])
    }

    /// The number of events the complaint page's timeline says it shows.
    pub(crate) fn timeline_events(&self) -> usize {
        between(&self.body, "data-events=\"", "\"")
            .and_then(|number| number.parse().ok())
            .unwrap_or_else(|| panic!("no timeline on the page:\n{}", self.body))
    }
}

#[track_caller]
pub(crate) fn field_in(html: &str, name: &str) -> String {
    between(html, &format!("name=\"{name}\" value=\""), "\"")
        .unwrap_or_else(|| panic!("no field {name} in:\n{html}"))
        .to_owned()
}

impl Console {
    pub(crate) async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, Policy::default()).await
    }

    pub(crate) async fn start_with(backend: Backend, policy: Policy) -> Option<Self> {
        let store = TestStore::create(backend).await?;
        let clock = FixedClock::new(t0());
        let app = App::new(
            &store.database,
            &MasterKey::generate(),
            policy,
            Arc::new(clock.clone()),
        );
        let router = app.router(ServerLimits::default());
        Some(Self {
            app,
            router,
            clock,
            store,
        })
    }

    /// Adds the people of a test, each with [`PASSWORD`].
    pub(crate) async fn people(&self, people: &[(&str, Role)]) {
        for (name, role) in people {
            self.app
                .accounts
                .add(name, *role, PASSWORD)
                .await
                .expect("add an account");
        }
    }

    pub(crate) async fn send(&self, request: Request<Body>) -> Page {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Page {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub(crate) fn request(
        method: Method,
        path: &str,
        cookie: Option<&str>,
        headers: &[(&str, &str)],
    ) -> axum::http::request::Builder {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder
    }

    pub(crate) async fn get(&self, path: &str, cookie: Option<&str>) -> Page {
        self.get_with(path, cookie, &[]).await
    }

    pub(crate) async fn get_with(
        &self,
        path: &str,
        cookie: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Page {
        let request = Self::request(Method::GET, path, cookie, headers)
            .body(Body::empty())
            .expect("request");
        self.send(request).await
    }

    pub(crate) async fn post(
        &self,
        path: &str,
        cookie: Option<&str>,
        fields: &[(&str, &str)],
    ) -> Page {
        self.post_with(path, cookie, fields, &[]).await
    }

    pub(crate) async fn post_with(
        &self,
        path: &str,
        cookie: Option<&str>,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let request = Self::request(Method::POST, path, cookie, headers)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form_body(fields)))
            .expect("request");
        self.send(request).await
    }

    /// Posts the sign-in form as `name` with `password`, paired as a browser pairs it (the
    /// form's cookie and hidden field), from `address` when given.
    pub(crate) async fn try_sign_in(
        &self,
        name: &str,
        password: &str,
        address: Option<SocketAddr>,
    ) -> Page {
        let form = self.get("/sign-in", None).await;
        form.assert_status(StatusCode::OK);
        let pairing = form.cookie("obliged_sign_in").pair();
        let csrf = form.field("csrf");
        let mut request = Self::request(Method::POST, "/sign-in", Some(&pairing), &[])
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form_body(&[
                ("csrf", &csrf),
                ("name", name),
                ("password", password),
            ])))
            .expect("request");
        if let Some(address) = address {
            request.extensions_mut().insert(ConnectInfo(address));
        }
        self.send(request).await
    }

    /// Signs `name` in; the session cookie to send back.
    pub(crate) async fn sign_in(&self, name: &str) -> String {
        let answer = self.try_sign_in(name, PASSWORD, None).await;
        answer.assert_redirect("/my-work");
        answer.cookie("obliged_session").pair()
    }

    /// Files a complaint from the new-complaint form as `who` (who takes it); its id.
    pub(crate) async fn file(&self, who: &str) -> String {
        let form = self.get("/complaints/new", Some(who)).await;
        form.assert_status(StatusCode::OK);
        let html = between(&form.body, "<form id=\"new-complaint\"", "</form>")
            .expect("the new-complaint form");
        let (csrf, key) = (field_in(html, "csrf"), field_in(html, "idempotency_key"));
        let filed = self
            .post(
                "/complaints/new",
                Some(who),
                &[
                    ("csrf", &csrf),
                    ("idempotency_key", &key),
                    ("customer_reference", "CUST-1042"),
                    ("customer_name", "Margaretha Vlieland"),
                    ("customer_email", "m.vlieland@example.org"),
                    ("channel", "phone"),
                    ("category", "billing"),
                    ("description", "Charged twice for the November invoice"),
                    ("take", "on"),
                ],
            )
            .await;
        filed.assert_status(StatusCode::SEE_OTHER);
        let id = between(filed.location(), "/complaints/", "?done=new")
            .unwrap_or_else(|| panic!("filed, then sent to {:?}", filed.location()));
        Uuid::parse_str(id).expect("a complaint id").to_string()
    }

    /// Complaint `id`'s page as `who` sees it.
    pub(crate) async fn complaint(&self, who: &str, id: &str) -> Page {
        let page = self.get(&format!("/complaints/{id}"), Some(who)).await;
        page.assert_status(StatusCode::OK);
        page
    }

    /// Posts the form `cmd-SLUG` of complaint `id`'s page as `who`, with `fields` beside the
    /// form's own csrf token and idempotency key (read from the page, as a browser sends
    /// them). The answer and the key it was posted with.
    pub(crate) async fn command(
        &self,
        who: &str,
        id: &str,
        slug: &str,
        fields: &[(&str, &str)],
    ) -> (Page, String) {
        let page = self.complaint(who, id).await;
        let form = page
            .form(&format!("cmd-{slug}"))
            .unwrap_or_else(|| panic!("no form cmd-{slug} on the page:\n{}", page.body));
        let (csrf, key) = (field_in(form, "csrf"), field_in(form, "idempotency_key"));
        let mut all = vec![("csrf", csrf.as_str()), ("idempotency_key", key.as_str())];
        all.extend_from_slice(fields);
        let answer = self
            .post(
                &format!("/complaints/{id}/commands/{slug}"),
                Some(who),
                &all,
            )
            .await;
        (answer, key)
    }

    /// Like [`command`](Self::command), insisting that it succeeds (a redirect to the page).
    pub(crate) async fn ok(&self, who: &str, id: &str, slug: &str, fields: &[(&str, &str)]) {
        let (answer, _) = self.command(who, id, slug, fields).await;
        answer.assert_redirect(&format!("/complaints/{id}?done={slug}"));
    }

    /// The complaint's stored history, as the engine reads it.
    pub(crate) async fn history(&self, id: &str) -> Vec<String> {
        self.app
            .engine
            .history(Uuid::parse_str(id).expect("id"), Disclosure::Redacted)
            .await
            .expect("history")
            .into_iter()
            .map(|event| event.event_type)
            .collect()
    }

    /// Brings the read models up with the ledger (the projector worker's job in the binary).
    pub(crate) async fn project(&self) {
        self.app.projector.catch_up().await.expect("catch up");
    }

    /// One tick of the promise clock at the console's clock.
    pub(crate) async fn tick(&self) -> Tick {
        Scheduler::new(
            self.app.engine.clone(),
            self.app.projector.clone(),
            self.app.read_models.clone(),
        )
        .tick()
        .await
        .expect("a tick")
    }
}

/// A promise form's fields: a callback due a day after the test's start (in the default
/// policy's zone).
pub(crate) const PROMISE: &[(&str, &str)] = &[
    ("kind", "callback"),
    ("description", "Call back with the corrected invoice"),
    ("due_at", "2026-03-03T10:00"),
];

/// The sign-in form sets a cookie that pairs it with its post; the post signs in only with
/// both, and the session cookie cannot be read by script, is not sent cross-site and covers
/// every page. Signed out, pages send the browser to the sign-in page.
async fn signing_in_pairs_the_form_with_its_cookie_and_sets_a_strict_session_cookie(
    backend: Backend,
) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console.people(&[("alice", Role::Agent)]).await;

    for path in ["/", "/my-work", "/complaints", "/settings"] {
        console.get(path, None).await.assert_redirect("/sign-in");
    }
    let form = console.get("/sign-in", None).await;
    form.assert_status(StatusCode::OK);
    assert!(form.body.contains("id=\"sign-in-form\""), "{}", form.body);
    let pairing = form.cookie("obliged_sign_in");
    assert!(pairing.has("HttpOnly") && pairing.has("SameSite=Strict"));
    assert_eq!(pairing.attribute("Path"), Some("/sign-in"));
    assert_eq!(
        pairing.value,
        form.field("csrf"),
        "the field and the cookie pair"
    );

    let (cookie, csrf) = (pairing.pair(), form.field("csrf"));
    let credentials = [("name", "alice"), ("password", PASSWORD)];
    let other_csrf = "0123456789abcdef0123456789abcdef";
    // Unpaired posts: no cookie, no field, a field the cookie does not match.
    let unpaired = [
        (None, [&credentials[..], &[("csrf", &csrf)]].concat()),
        (Some(cookie.as_str()), credentials.to_vec()),
        (
            Some(cookie.as_str()),
            [&credentials[..], &[("csrf", other_csrf)]].concat(),
        ),
    ];
    for (cookie, fields) in unpaired {
        let refused = console.post("/sign-in", cookie, &fields).await;
        refused.assert_status(StatusCode::FORBIDDEN);
        assert!(
            refused.body.contains("id=\"forbidden\""),
            "{}",
            refused.body
        );
        assert!(set_cookies(&refused.headers)
            .iter()
            .all(|set| set.name != "obliged_session"));
    }

    // A wrong password: the form again, with the error, and no session.
    let wrong = console
        .try_sign_in("alice", "not the password at all", None)
        .await;
    wrong.assert_status(StatusCode::UNAUTHORIZED);
    assert!(
        wrong.body.contains("id=\"sign-in-error\""),
        "{}",
        wrong.body
    );
    assert!(wrong.body.contains("role=\"alert\""));
    assert!(set_cookies(&wrong.headers)
        .iter()
        .all(|set| set.name != "obliged_session"));
    // An unknown name is answered the same way.
    let unknown = console.try_sign_in("nobody", PASSWORD, None).await;
    unknown.assert_status(StatusCode::UNAUTHORIZED);

    let signed_in = console.try_sign_in("alice", PASSWORD, None).await;
    signed_in.assert_redirect("/my-work");
    let session = signed_in.cookie("obliged_session");
    assert!(session.has("HttpOnly"), "{session:?}");
    assert!(session.has("SameSite=Strict"), "{session:?}");
    assert_eq!(session.attribute("Path"), Some("/"), "{session:?}");
    assert!(!session.has("Secure"), "plain HTTP by default: {session:?}");
    // The pairing cookie is spent.
    assert_eq!(
        signed_in.cookie("obliged_sign_in").attribute("Max-Age"),
        Some("0")
    );

    let my_work = console.get("/my-work", Some(&session.pair())).await;
    my_work.assert_status(StatusCode::OK);
    assert_eq!(between(&my_work.body, "id=\"whoami\">", "<"), Some("alice"));
    // Signed in, the sign-in page and the root lead to My work.
    for path in ["/", "/sign-in"] {
        console
            .get(path, Some(&session.pair()))
            .await
            .assert_redirect("/my-work");
    }
    // A made-up session is no session.
    console
        .get("/my-work", Some("obliged_session=madeup"))
        .await
        .assert_redirect("/sign-in");

    // Behind TLS the cookie is marked Secure.
    let mut behind_tls = console.app.clone();
    behind_tls.secure_cookies = true;
    let secure = Console {
        router: behind_tls.router(ServerLimits::default()),
        app: behind_tls,
        clock: console.clock.clone(),
        store: console.store,
    };
    let answer = secure.try_sign_in("alice", PASSWORD, None).await;
    answer.assert_redirect("/my-work");
    assert!(answer.cookie("obliged_session").has("Secure"));
}

/// Five attempts for one account, then even the right password waits; the answer says how
/// long. The count is per account: someone else at the same address still signs in.
async fn sign_in_attempts_are_throttled_per_account_not_per_address(backend: Backend) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console
        .people(&[("alice", Role::Agent), ("bob", Role::Agent)])
        .await;
    let office: SocketAddr = "192.0.2.7:50000".parse().expect("address");

    for attempt in 1..=5 {
        let wrong = console
            .try_sign_in("alice", "a wrong password", Some(office))
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let throttled = console.try_sign_in("alice", PASSWORD, Some(office)).await;
    throttled.assert_status(StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = throttled
        .header("retry-after")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=20).contains(&wait), "Retry-After {wait}");
    let error = between(&throttled.body, "id=\"sign-in-error\"", "</p>").expect("the error");
    assert!(
        error.contains(&format!("Too many attempts. Try again in {wait} seconds.")),
        "{error}"
    );
    assert!(set_cookies(&throttled.headers)
        .iter()
        .all(|set| set.name != "obliged_session"));
    // The name is kept in the form, the password is not.
    assert!(throttled.body.contains("value=\"alice\""));
    assert!(!throttled.body.contains(PASSWORD));

    // Another account at the same address.
    let bob = console.try_sign_in("bob", PASSWORD, Some(office)).await;
    bob.assert_redirect("/my-work");
    // Names are counted without regard to case.
    console
        .try_sign_in("ALICE", PASSWORD, Some(office))
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
}

/// A command, a setting or a sign-out without this session's CSRF token (none, a wrong one, or
/// another person's) is refused with a 403 page, and nothing is recorded.
async fn a_form_without_the_sessions_csrf_token_is_refused_and_appends_nothing(backend: Backend) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console
        .people(&[("alice", Role::Agent), ("bob", Role::Agent)])
        .await;
    let alice = console.sign_in("alice").await;
    let bob = console.sign_in("bob").await;
    let id = console.file(&alice).await;
    let before = console.history(&id).await;
    let page = console.complaint(&alice, &id).await;
    assert_eq!(page.timeline_events(), before.len());
    let key = field_in(
        page.form("cmd-log-contact").expect("form"),
        "idempotency_key",
    );
    let bobs_csrf = console.complaint(&bob, &id).await.field("csrf");
    assert_ne!(
        bobs_csrf,
        page.field("csrf"),
        "sessions have their own tokens"
    );

    let contact = [
        ("idempotency_key", key.as_str()),
        ("direction", "outbound"),
        ("channel", "phone"),
        ("summary", "Explained the double charge"),
    ];
    for csrf in [None, Some("forged"), Some(""), Some(bobs_csrf.as_str())] {
        let mut fields = contact.to_vec();
        if let Some(csrf) = csrf {
            fields.push(("csrf", csrf));
        }
        let refused = console
            .post(
                &format!("/complaints/{id}/commands/log-contact"),
                Some(&alice),
                &fields,
            )
            .await;
        refused.assert_status(StatusCode::FORBIDDEN);
        assert!(
            refused.body.contains("id=\"forbidden\""),
            "{}",
            refused.body
        );
    }
    assert_eq!(console.history(&id).await, before);
    assert_eq!(
        console.complaint(&alice, &id).await.timeline_events(),
        before.len()
    );

    // Filing, settings and sign-out check it too.
    let filed = console
        .post(
            "/complaints/new",
            Some(&alice),
            &[
                ("csrf", "forged"),
                ("idempotency_key", "k-1"),
                ("customer_reference", "CUST-7"),
                ("customer_name", "Someone"),
                ("channel", "phone"),
                ("category", "billing"),
                ("description", "Forged"),
            ],
        )
        .await;
    filed.assert_status(StatusCode::FORBIDDEN);
    let all_events = obliged_storage::testing::event_count(&console.app.database, None).await;
    assert_eq!(all_events, before.len() as i64, "nothing else was filed");
    console
        .post(
            "/settings",
            Some(&alice),
            &[("csrf", &bobs_csrf), ("language", "nl")],
        )
        .await
        .assert_status(StatusCode::FORBIDDEN);
    console
        .post("/sign-out", Some(&alice), &[("csrf", "forged")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    // Still signed in, still in English.
    let still = console.get("/my-work", Some(&alice)).await;
    still.assert_status(StatusCode::OK);
    assert!(still.body.contains("<html lang=\"en\">"));

    // With the right token the same post is recorded (the refusals were the token's doing).
    let mut fields = contact.to_vec();
    let csrf = page.field("csrf");
    fields.push(("csrf", &csrf));
    console
        .post(
            &format!("/complaints/{id}/commands/log-contact"),
            Some(&alice),
            &fields,
        )
        .await
        .assert_redirect(&format!("/complaints/{id}?done=log-contact"));
    assert_eq!(console.history(&id).await.len(), before.len() + 1);
}

/// The admin page is for admins; an auditor sees no command form and may not post one; taking
/// a complaint over is offered to a lead and neither offered to nor accepted from an agent.
async fn each_role_sees_and_may_post_only_what_it_may_do(backend: Backend) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console
        .people(&[
            ("alice", Role::Agent),
            ("bob", Role::Agent),
            ("lena", Role::Lead),
            ("audrey", Role::Auditor),
            ("root", Role::Admin),
        ])
        .await;
    let alice = console.sign_in("alice").await;
    let bob = console.sign_in("bob").await;
    let lena = console.sign_in("lena").await;
    let audrey = console.sign_in("audrey").await;
    let root = console.sign_in("root").await;

    // The admin page.
    for (who, name) in [(&alice, "agent"), (&lena, "lead"), (&audrey, "auditor")] {
        let refused = console.get("/admin", Some(who)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{name}");
        assert!(refused.body.contains("<h1 id=\"forbidden\">"), "{name}");
        assert!(!refused.body.contains("id=\"people\""), "{name}");
        assert!(!refused.body.contains("href=\"/admin\""), "{name}");
    }
    let admin = console.get("/admin", Some(&root)).await;
    admin.assert_status(StatusCode::OK);
    let people = between(&admin.body, "id=\"people\"", "</table>").expect("the people");
    for name in ["alice", "bob", "lena", "audrey", "root"] {
        assert!(
            people.contains(&format!("data-person=\"{name}\"")),
            "{name}: {people}"
        );
    }
    assert!(
        admin.body.contains("href=\"/admin\""),
        "admins see the link"
    );

    // An auditor reads the complaint but gets no form, and a forged post is refused.
    let id = console.file(&alice).await;
    let before = console.history(&id).await;
    let read = console.complaint(&audrey, &id).await;
    assert!(read.body.contains("id=\"timeline\""));
    assert!(!read.body.contains("class=\"command\""), "{}", read.body);
    assert!(console
        .complaint(&alice, &id)
        .await
        .body
        .contains("class=\"command\""));
    let forged = console
        .post(
            &format!("/complaints/{id}/commands/log-contact"),
            Some(&audrey),
            &[
                ("csrf", &read.field("csrf")),
                ("idempotency_key", "audrey-1"),
                ("direction", "outbound"),
                ("channel", "phone"),
                ("summary", "An auditor should not log this"),
            ],
        )
        .await;
    forged.assert_status(StatusCode::FORBIDDEN);
    assert!(forged.body.contains("id=\"forbidden\""));
    // Nor file one.
    console
        .get("/complaints/new", Some(&audrey))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(console.history(&id).await, before);

    // Taking over alice's complaint: offered to the lead, not to another agent.
    let bobs_view = console.complaint(&bob, &id).await;
    assert!(bobs_view.form("cmd-log-contact").is_some());
    assert!(
        bobs_view.form("cmd-take-over").is_none(),
        "{}",
        bobs_view.body
    );
    let forged = console
        .post(
            &format!("/complaints/{id}/commands/take-over"),
            Some(&bob),
            &[
                ("csrf", &bobs_view.field("csrf")),
                ("idempotency_key", "bob-1"),
                ("reason", "I want it"),
            ],
        )
        .await;
    forged.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(console.history(&id).await, before);
    assert!(console
        .complaint(&lena, &id)
        .await
        .form("cmd-take-over")
        .is_some());
    console
        .ok(&lena, &id, "take-over", &[("reason", "Alice is on leave")])
        .await;
    let taken = console.complaint(&lena, &id).await;
    assert_eq!(between(&taken.body, "id=\"owner\">", "<"), Some("lena"));
}

/// The engine's refusal is shown inside the form that was posted, translated (not its slug),
/// with status 422 and nothing recorded; a form the console cannot decode keeps what was typed.
async fn a_refusal_is_explained_beside_its_form_with_what_was_typed_kept(backend: Backend) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console.people(&[("alice", Role::Agent)]).await;
    let alice = console.sign_in("alice").await;
    let id = console.file(&alice).await;
    console.ok(&alice, &id, "make-promise", PROMISE).await;
    let before = console.history(&id).await;

    let (refused, _) = console.command(&alice, &id, "close", &[]).await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let form = refused.form("cmd-close").expect("the close form");
    let refusal = between(form, "<p class=\"refusal\"", "</p>").expect("a refusal in the form");
    assert!(refusal.contains("role=\"alert\""), "{refusal}");
    assert!(
        refusal.contains("This complaint cannot be closed yet: a promise is still open."),
        "{refusal}"
    );
    assert!(
        !refused.body.contains("open-promises"),
        "no slug on the page"
    );
    assert_eq!(count(&refused.body, "class=\"refusal\""), 1, "one refusal");
    assert_eq!(console.history(&id).await, before);

    // A refusal before the engine (an alias that is not one): the summary typed stays.
    let summary = "Customer rang about the refund; promised a call";
    let (refused, key) = console
        .command(
            &alice,
            &id,
            "log-contact",
            &[
                ("direction", "inbound"),
                ("channel", "phone"),
                ("summary", summary),
                ("request", "on"),
                ("alias", "not an alias!"),
            ],
        )
        .await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let form = refused.form("cmd-log-contact").expect("the contact form");
    assert!(form.contains("class=\"refusal\" role=\"alert\""), "{form}");
    assert_eq!(
        between(form, "name=\"summary\" rows=\"3\" required>", "</textarea>"),
        Some(summary),
        "{form}"
    );
    assert!(form.contains("value=\"not an alias!\""), "{form}");
    assert!(
        form.contains("name=\"request\" value=\"on\" checked"),
        "{form}"
    );
    assert!(form.contains("aria-invalid=\"true\""), "{form}");
    assert_eq!(field_in(form, "idempotency_key"), key, "the key is kept");
    assert_eq!(console.history(&id).await, before);
}

/// A form posted twice (a double click, a resent request) carries one idempotency key: the
/// second post records nothing and answers like the first.
async fn a_form_posted_twice_appends_once(backend: Backend) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console.people(&[("alice", Role::Agent)]).await;
    let alice = console.sign_in("alice").await;
    let id = console.file(&alice).await;
    let before = console.history(&id).await.len();

    let page = console.complaint(&alice, &id).await;
    let form = page.form("cmd-make-promise").expect("the promise form");
    let (csrf, key) = (field_in(form, "csrf"), field_in(form, "idempotency_key"));
    let mut fields = vec![("csrf", csrf.as_str()), ("idempotency_key", key.as_str())];
    fields.extend_from_slice(PROMISE);
    for _ in 0..2 {
        console
            .post(
                &format!("/complaints/{id}/commands/make-promise"),
                Some(&alice),
                &fields,
            )
            .await
            .assert_redirect(&format!("/complaints/{id}?done=make-promise"));
    }
    let history = console.history(&id).await;
    assert_eq!(history.len(), before + 1, "{history:?}");
    assert_eq!(count(&history.join(" "), "PromiseMade"), 1);

    console.project().await;
    let my_work = console.get("/my-work", Some(&alice)).await;
    my_work.assert_status(StatusCode::OK);
    assert_eq!(
        count(&my_work.body, "data-kind=\"promise\""),
        1,
        "{}",
        my_work.body
    );
    // A fresh page offers a fresh key: the same promise made again is a second promise.
    console.ok(&alice, &id, "make-promise", PROMISE).await;
    assert_eq!(console.history(&id).await.len(), before + 2);
}

/// A session ends at once, on the next request: at sign-out, when the account is disabled,
/// and when its password is reset. Other people's sessions go on.
async fn sessions_end_at_sign_out_when_disabled_and_when_the_password_is_reset(backend: Backend) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console
        .people(&[
            ("alice", Role::Agent),
            ("bob", Role::Agent),
            ("carol", Role::Agent),
        ])
        .await;
    let alice = console.sign_in("alice").await;
    let bob = console.sign_in("bob").await;
    let carol = console.sign_in("carol").await;
    let alice_elsewhere = console.sign_in("alice").await;
    for who in [&alice, &bob, &carol, &alice_elsewhere] {
        console
            .get("/my-work", Some(who))
            .await
            .assert_status(StatusCode::OK);
    }

    // Sign-out ends this session, and tells the browser to forget it.
    let csrf = console.get("/my-work", Some(&alice)).await.field("csrf");
    let out = console
        .post("/sign-out", Some(&alice), &[("csrf", &csrf)])
        .await;
    out.assert_redirect("/sign-in");
    assert_eq!(
        out.cookie("obliged_session").attribute("Max-Age"),
        Some("0")
    );
    console
        .get("/my-work", Some(&alice))
        .await
        .assert_redirect("/sign-in");
    // The same session's post is refused too, not only its pages.
    console
        .post(
            "/settings",
            Some(&alice),
            &[("csrf", &csrf), ("language", "nl")],
        )
        .await
        .assert_redirect("/sign-in");
    console
        .get("/my-work", Some(&alice_elsewhere))
        .await
        .assert_status(StatusCode::OK);

    // Disabling ends every session of the account, and it can no longer sign in.
    console
        .app
        .accounts
        .disable("alice")
        .await
        .expect("disable");
    console
        .get("/my-work", Some(&alice_elsewhere))
        .await
        .assert_redirect("/sign-in");
    console
        .try_sign_in("alice", PASSWORD, None)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);

    // A reset password ends the sessions signed in with the old one.
    let new_password = "a brand new password";
    console
        .app
        .accounts
        .reset_password("bob", new_password)
        .await
        .expect("reset");
    console
        .get("/my-work", Some(&bob))
        .await
        .assert_redirect("/sign-in");
    console
        .try_sign_in("bob", PASSWORD, None)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    console
        .try_sign_in("bob", new_password, None)
        .await
        .assert_redirect("/my-work");

    // Carol was never touched.
    console
        .get("/my-work", Some(&carol))
        .await
        .assert_status(StatusCode::OK);
}

/// On the test clock: a session unused for the idle time ends, one in use goes on; and any
/// session ends at its absolute lifetime however busy its person is.
async fn sessions_expire_when_idle_and_after_their_lifetime_however_busy(backend: Backend) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console
        .people(&[("alice", Role::Agent), ("bob", Role::Agent)])
        .await;
    let settings = console.app.accounts.settings();
    let idle = SignedDuration::try_from(settings.idle).expect("idle");
    let absolute = SignedDuration::try_from(settings.absolute).expect("absolute");
    let minute = SignedDuration::from_mins(1);

    // Idle: used just before the idle time twice over, then left alone just past it.
    let alice = console.sign_in("alice").await;
    for _ in 0..2 {
        console.clock.advance(idle - minute);
        console
            .get("/my-work", Some(&alice))
            .await
            .assert_status(StatusCode::OK);
    }
    console.clock.advance(idle + minute);
    console
        .get("/my-work", Some(&alice))
        .await
        .assert_redirect("/sign-in");
    // Expired is ended: going back in time does not revive it.
    console.clock.advance(-(idle + minute));
    console
        .get("/my-work", Some(&alice))
        .await
        .assert_redirect("/sign-in");

    // Absolute: a request every half idle time until the lifetime has passed.
    let started = console.clock.now();
    let bob = console.sign_in("bob").await;
    let step = idle / 2;
    while console.clock.now() + step < started + absolute {
        console.clock.advance(step);
        console
            .get("/my-work", Some(&bob))
            .await
            .assert_status(StatusCode::OK);
    }
    console
        .clock
        .set(started + absolute + SignedDuration::from_secs(1));
    console
        .get("/my-work", Some(&bob))
        .await
        .assert_redirect("/sign-in");
}

/// Reads an SSE body until an event named `name` whose data contains `needle` arrives; all the
/// text so far.
async fn until_event(body: &mut BodyDataStream, seen: &mut String, name: &str, needle: &str) {
    let found = |text: &str| {
        text.split("\n\n").any(|block| {
            block.lines().any(|line| line == format!("event: {name}"))
                && block
                    .lines()
                    .any(|line| line.starts_with("data:") && line.contains(needle))
        })
    };
    while !found(seen) {
        let chunk = tokio::time::timeout(PATIENCE, body.next())
            .await
            .unwrap_or_else(|_| panic!("no {name} event with {needle:?} in {PATIENCE:?}: {seen}"))
            .unwrap_or_else(|| panic!("the stream ended before {name} {needle:?}: {seen}"))
            .expect("a chunk");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// Reads an SSE body until it ends; fails if it is still open after [`PATIENCE`].
async fn until_it_ends(mut body: BodyDataStream, seen: &mut String) {
    loop {
        match tokio::time::timeout(PATIENCE, body.next()).await {
            Ok(Some(chunk)) => seen.push_str(&String::from_utf8_lossy(&chunk.expect("a chunk"))),
            Ok(None) => return,
            Err(_) => panic!("the stream is still open after {PATIENCE:?}; it sent: {seen}"),
        }
    }
}

/// Alice has a complaint open; Bob logs a contact on it from his console. Alice's page receives
/// the new timeline (with the event) and a notice naming Bob. When Alice's account is disabled
/// her stream ends, after telling the page.
async fn a_live_complaint_page_shows_anothers_change_and_ends_with_its_session(backend: Backend) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console
        .people(&[("alice", Role::Agent), ("bob", Role::Agent)])
        .await;
    let alice = console.sign_in("alice").await;
    let bob = console.sign_in("bob").await;
    let id = console.file(&alice).await;
    let page = console.complaint(&alice, &id).await;
    assert!(page
        .body
        .contains(&format!("sse-connect=\"/complaints/{id}/live\"")));
    assert!(!page.body.contains("data-event=\"ContactLogged\""));

    // Signed out, there is no stream.
    console
        .get(&format!("/complaints/{id}/live"), None)
        .await
        .assert_redirect("/sign-in");

    let request = Request::builder()
        .uri(format!("/complaints/{id}/live"))
        .header(header::COOKIE, &alice)
        .body(Body::empty())
        .expect("request");
    let response = console
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE].to_str().ok(),
        Some("text/event-stream")
    );
    let mut body = response.into_body().into_data_stream();

    console
        .ok(
            &bob,
            &id,
            "log-contact",
            &[
                ("direction", "outbound"),
                ("channel", "phone"),
                ("summary", "Told the customer the refund is on its way"),
            ],
        )
        .await;
    let mut seen = String::new();
    until_event(
        &mut body,
        &mut seen,
        "timeline",
        "data-event=\"ContactLogged\"",
    )
    .await;
    until_event(&mut body, &mut seen, "notice", "bob").await;

    console
        .app
        .accounts
        .disable("alice")
        .await
        .expect("disable");
    until_it_ends(body, &mut seen).await;
    assert!(
        seen.lines().any(|line| line == "event: ended"),
        "the page is told: {seen}"
    );
}

/// Without a choice, pages follow Accept-Language; a choice in the settings wins over it.
async fn pages_speak_the_browsers_language_until_the_person_chooses_one(backend: Backend) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console.people(&[("alice", Role::Agent)]).await;
    let dutch = [("accept-language", "nl-NL,nl;q=0.9,en;q=0.5")];

    let sign_in = console.get_with("/sign-in", None, &dutch).await;
    assert!(
        sign_in.body.contains("<html lang=\"nl\">"),
        "{}",
        sign_in.body
    );
    let alice = console.sign_in("alice").await;
    let page = console.get_with("/my-work", Some(&alice), &dutch).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("<html lang=\"nl\">"), "{}", page.body);
    assert!(page.body.contains(">Mijn werk</a>"), "{}", page.body);
    let english = console.get("/my-work", Some(&alice)).await;
    assert!(english.body.contains("<html lang=\"en\">"));
    assert!(english.body.contains(">My work</a>"));

    let saved = console
        .post_with(
            "/settings",
            Some(&alice),
            &[("csrf", &page.field("csrf")), ("language", "en")],
            &dutch,
        )
        .await;
    saved.assert_status(StatusCode::OK);
    assert!(saved.body.contains("<html lang=\"en\">"), "{}", saved.body);
    assert!(saved.body.contains("<option value=\"en\" selected>"));
    let page = console.get_with("/my-work", Some(&alice), &dutch).await;
    assert!(page.body.contains("<html lang=\"en\">"), "{}", page.body);
    assert!(page.body.contains(">My work</a>"));

    // Back to following the browser.
    console
        .post_with(
            "/settings",
            Some(&alice),
            &[("csrf", &page.field("csrf")), ("language", "auto")],
            &dutch,
        )
        .await
        .assert_status(StatusCode::OK);
    let page = console.get_with("/my-work", Some(&alice), &dutch).await;
    assert!(page.body.contains("<html lang=\"nl\">"));
}

/// Console pages forbid inline script and framing and are never cached; assets have their
/// types; the API's paths still reach the API, with its own answers.
async fn console_pages_carry_the_security_headers_and_the_api_still_answers_problems(
    backend: Backend,
) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console.people(&[("alice", Role::Agent)]).await;
    let alice = console.sign_in("alice").await;
    let id = console.file(&alice).await;

    for page in [
        console.get("/sign-in", None).await,
        console.get("/my-work", Some(&alice)).await,
        console.complaint(&alice, &id).await,
        console.get("/admin", Some(&alice)).await,
        console.get("/no-such-page", Some(&alice)).await,
    ] {
        let policy = page.header("content-security-policy");
        let script_src = policy
            .split(';')
            .map(str::trim)
            .find(|directive| directive.starts_with("script-src"))
            .unwrap_or_else(|| panic!("no script-src in {policy:?}"));
        assert_eq!(script_src, "script-src 'self'", "{policy}");
        assert!(!policy.contains("unsafe-"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert_eq!(page.header("x-frame-options"), "DENY");
        assert!(!page.header("referrer-policy").is_empty());
        assert_eq!(page.header("x-content-type-options"), "nosniff");
        assert_eq!(page.header("cache-control"), "no-store");
        assert!(page.header("content-type").starts_with("text/html"));
        // What the policy forbids is not on the page either: every script is a file.
        for script in page.body.split("<script").skip(1) {
            let tag = &script[..script.find('>').expect("a closed tag")];
            assert!(tag.contains(" src=\"/assets/"), "inline script: {script}");
        }
        assert!(!page.body.contains(" style=\""));
        assert!(!page.body.contains(" onclick="));
    }

    for (name, content_type) in [
        ("htmx.min.js", "text/javascript"),
        ("htmx-ext-sse.js", "text/javascript"),
        ("console.js", "text/javascript"),
        ("console.css", "text/css"),
    ] {
        let asset = console.get(&format!("/assets/{name}"), None).await;
        asset.assert_status(StatusCode::OK);
        assert!(
            asset.header("content-type").starts_with(content_type),
            "{name}: {}",
            asset.header("content-type")
        );
        assert_eq!(asset.header("x-content-type-options"), "nosniff");
        assert!(!asset.body.is_empty());
    }
    console
        .get("/assets/../Cargo.toml", None)
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // The API, behind the console: a problem, not a page or a redirect to sign in.
    for path in ["/api/complaints", &format!("/api/complaints/{id}")] {
        let answer = console.get(path, Some(&alice)).await;
        answer.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(answer.header("content-type"), "application/problem+json");
        let problem: serde_json::Value = serde_json::from_str(&answer.body).expect("json");
        assert!(problem["type"].is_string(), "{problem}");
    }
    console
        .get("/healthz", None)
        .await
        .assert_status(StatusCode::OK);
}

/// My work lists a handover offered to the signed-in person and the regulatory deadlines of
/// the complaints they own (a policy with deadlines), each naming its complaint.
async fn my_work_lists_handovers_offered_and_deadlines_of_owned_complaints(backend: Backend) {
    let policy = obliged::policy::load("fca").expect("the fca preset");
    let Some(console) = Console::start_with(backend, policy).await else {
        return;
    };
    console
        .people(&[("alice", Role::Agent), ("bob", Role::Agent)])
        .await;
    let alice = console.sign_in("alice").await;
    let bob = console.sign_in("bob").await;

    console.project().await;
    let empty = console.get("/my-work", Some(&bob)).await;
    empty.assert_status(StatusCode::OK);
    assert!(
        empty.body.contains("id=\"my-work-empty\""),
        "{}",
        empty.body
    );

    let id = console.file(&alice).await;
    console
        .ok(
            &alice,
            &id,
            "offer-handover",
            &[("to", "bob"), ("note", "You know this customer")],
        )
        .await;
    console.project().await;

    let items = |page: &Page| -> Vec<(String, String)> {
        page.body
            .split("<li class=\"work-item")
            .skip(1)
            .map(|item| {
                (
                    between(item, "data-kind=\"", "\"").unwrap_or("").to_owned(),
                    between(item, "data-complaint=\"", "\"")
                        .unwrap_or("")
                        .to_owned(),
                )
            })
            .collect()
    };
    let bobs = console.get("/my-work", Some(&bob)).await;
    bobs.assert_status(StatusCode::OK);
    assert_eq!(
        items(&bobs),
        vec![("handover".to_owned(), id.clone())],
        "{}",
        bobs.body
    );
    let alices = console.get("/my-work", Some(&alice)).await;
    let alices_items = items(&alices);
    assert!(
        alices_items.contains(&("deadline".to_owned(), id.clone())),
        "{alices_items:?}"
    );
    assert!(
        !alices_items.iter().any(|(kind, _)| kind == "handover"),
        "the offer is Bob's to answer: {alices_items:?}"
    );
    // Each item has its countdown with the absolute time.
    assert!(alices
        .body
        .contains("<time class=\"countdown\" datetime=\""));

    // Accepted, the offer leaves Bob's list and the deadlines follow the complaint to him.
    console.ok(&bob, &id, "accept-handover", &[]).await;
    console.project().await;
    let bobs = items(&console.get("/my-work", Some(&bob)).await);
    assert!(!bobs.iter().any(|(kind, _)| kind == "handover"), "{bobs:?}");
    assert!(
        bobs.contains(&("deadline".to_owned(), id.clone())),
        "{bobs:?}"
    );
}
