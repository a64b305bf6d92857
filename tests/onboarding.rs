//! Getting started (three steps, skippable and resumable, with the
//! profile's completeness) and the suggestions of people and communities,
//! through the pages and the API.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Sends the profile step's form (multipart, as the page does).
async fn profile_step(
    b: &Browser,
    csrf: &str,
    fields: &[(&str, &str)],
    photo: Option<(Vec<u8>, &str)>,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new().text("csrf", csrf.to_string());
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    if let Some((bytes, ct)) = photo {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name("me.png")
            .mime_str(ct)
            .unwrap();
        form = form.part("photo", part);
    }
    b.client
        .post(format!("{}/welcome/profile", b.base))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The names of suggested people (or communities, by `key`).
fn names(v: &Value, key: &str) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| match key {
            "community" => i["community"]["name"].as_str().unwrap().to_string(),
            _ => i["username"].as_str().unwrap().to_string(),
        })
        .collect()
}

fn reasons_of(v: &Value, key: &str, name: &str) -> Vec<Value> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| match key {
            "community" => i["community"]["name"] == name,
            _ => i["username"] == name,
        })
        .unwrap_or_else(|| panic!("{name} not suggested: {v}"))["reasons"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_goes_through_the_three_steps_and_may_stop_and_resume() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    alice
        .patch(
            "/me",
            json!({"display_name": "Alice Lefèvre", "department": "Qualité", "site": "Lyon", "skills": ["audit"]}),
        )
        .await;
    let bob = app.user("bob").await;
    bob.patch("/me", json!({"department": "Finance"})).await;
    for (name, title, visibility, policy) in [
        ("qualite_lyon", "Qualité Lyon", "public", "open"),
        ("club", "Secret club", "secret", "open"),
        ("board", "Board", "public", "invitation"),
    ] {
        let r = alice
            .post(
                "/communities",
                json!({"name": name, "title": title, "visibility": visibility, "join_policy": policy}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    }

    // Signing up leads to the first step.
    let b = Browser::new(&app.base);
    let csrf = b.csrf("/signup").await;
    let r = b
        .post_form(
            "/signup",
            &[
                ("csrf", csrf.as_str()),
                ("username", "dana"),
                ("email", "dana@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/welcome");
    let html = b.html("/welcome").await;
    assert!(html.contains("aria-current=\"step\" class=\"current\"><span class=\"n\">1</span>"));
    assert!(
        html.contains("value=\"0\""),
        "an empty profile is 0 % complete"
    );
    assert!(html.contains("action=\"/welcome/profile\""));

    // The profile step: fields and a photo in one form.
    let csrf = extract_csrf(&html).unwrap();
    let r = profile_step(
        &b,
        &csrf,
        &[
            ("job_title", "Technicienne"),
            ("department", "qualité"),
            ("site", "Lyon"),
            ("skills", "Audit, soudure"),
        ],
        Some((png(300, 200), "image/png")),
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(location(&r), "/welcome?step=people");
    assert_eq!(app.count("photos"), 1);
    let dana = app.login_api("dana").await;
    let p = dana.get("/me/onboarding").await;
    assert_eq!(p.status, StatusCode::OK);
    assert_eq!(p.json["step"], "people");
    assert_eq!(p.json["finished"], false);
    // Photo, job, department, site and skills of eight fields.
    assert_eq!(p.json["completeness"]["percent"], 62);
    assert_eq!(
        p.json["completeness"]["missing"],
        json!(["display_name", "languages", "bio"])
    );

    // Leaving and coming back resumes at the step reached.
    let html = b.html("/welcome").await;
    assert!(html.contains("<span class=\"n\">2</span>"));
    assert!(html.contains("class=\"done\"><span class=\"n\">1</span>"));
    assert!(html.contains("Alice Lefèvre"), "same department and site");
    assert!(html.contains("Same department"));
    assert!(html.contains("Also knows audit"));
    assert!(
        !html.contains("/people/bob/follow"),
        "nothing in common with bob"
    );
    // The feed offers to continue, with the profile's completeness.
    let home = b.html("/").await;
    assert!(home.contains("class=\"card getting-started\""));
    assert!(home.contains("Step 2 of 3:"));
    assert!(home.contains("62 % complete"));

    // Following from the step returns to the step.
    let r = b
        .post_form(
            "/people/alice/follow",
            &[("csrf", &csrf), ("back", "/welcome?step=people")],
        )
        .await;
    assert_eq!(location(&r), "/welcome?step=people");
    assert_eq!(app.count("follows"), 1);
    // A back address elsewhere is not followed.
    let r = b
        .post_form(
            "/people/bob/follow",
            &[("csrf", &csrf), ("back", "https://evil.example/")],
        )
        .await;
    assert_eq!(location(&r), "/people/bob");
    let html = b.html("/welcome?step=people").await;
    assert!(
        !html.contains("/people/alice/follow"),
        "alice is followed now"
    );

    // The communities step lists what one may find and join.
    let r = b
        .post_form("/welcome/step", &[("csrf", &csrf), ("step", "communities")])
        .await;
    assert_eq!(location(&r), "/welcome?step=communities");
    let html = b.html("/welcome").await;
    assert!(html.contains("Qualité Lyon"));
    assert!(html.contains("About qualité"));
    assert!(
        !html.contains("Secret club"),
        "a secret community is not suggested"
    );
    assert!(!html.contains("/communities/board/join"), "invitation only");
    let r = b
        .post_form(
            "/communities/qualite_lyon/join",
            &[("csrf", &csrf), ("back", "/welcome?step=communities")],
        )
        .await;
    assert_eq!(location(&r), "/welcome?step=communities");
    let c = dana.get("/communities/qualite_lyon").await;
    assert_eq!(c.json["my_status"], "member");

    // Finishing returns to the feed, which stops offering the steps.
    let r = b.post_form("/welcome/finish", &[("csrf", &csrf)]).await;
    assert_eq!(location(&r), "/");
    let home = b.html("/").await;
    assert!(!home.contains("getting-started"));
    let p = dana.get("/me/onboarding").await;
    assert_eq!(p.json["finished"], true);
    // The steps remain reachable (more suggestions).
    assert!(b
        .html("/welcome?step=people")
        .await
        .contains("class=\"steps\""));

    // In French too.
    let fr = b
        .get_lang("/welcome?step=profile", "fr")
        .await
        .text()
        .await
        .unwrap();
    assert!(fr.contains("Votre profil est complet à 62 %"));
    assert!(fr.contains("Enregistrer et continuer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_in_getting_started_is_refused_and_changes_nothing() {
    let app = TestApp::start().await;
    let b = app.browser_user("dana").await;
    let csrf = b.csrf("/welcome").await;

    // A field too long, with a good photo: neither is kept, what was typed is.
    let long = "x".repeat(101);
    let r = profile_step(
        &b,
        &csrf,
        &[("job_title", &long), ("department", "Maintenance")],
        Some((png(64, 64), "image/png")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("role=\"alert\""));
    assert!(
        html.contains("value=\"Maintenance\""),
        "typed values are kept"
    );
    assert_eq!(app.count("photos"), 0);
    // Not a picture, with good fields: refused, and the fields not saved.
    let r = profile_step(
        &b,
        &csrf,
        &[("department", "Maintenance")],
        Some((b"%PDF-1.4 not an image".to_vec(), "image/png")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(r.text().await.unwrap().contains("value=\"Maintenance\""));
    // An image bomb: small file, huge dimensions.
    let r = profile_step(
        &b,
        &csrf,
        &[("department", "Maintenance")],
        Some((png_declaring(60_000, 60_000), "image/png")),
    )
    .await;
    assert_ne!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.status().is_client_error());
    assert_eq!(app.count("photos"), 0);
    let dana = app.login_api("dana").await;
    let me = dana.get("/me").await;
    assert_eq!(me.json["profile"]["department"], "");
    assert_eq!(dana.get("/me/onboarding").await.json["step"], "profile");

    // Without the form's token: refused.
    let r = profile_step(&b, "forged", &[("department", "X")], None).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = b.post_form("/welcome/finish", &[("csrf", "forged")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Unknown steps.
    let r = b
        .post_form("/welcome/step", &[("csrf", &csrf), ("step", "nowhere")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        b.get("/welcome?step=nowhere").await.status(),
        StatusCode::BAD_REQUEST
    );
    // Signed out: the sign-in page, which returns here.
    let anon = Browser::new(&app.base);
    let r = anon.get("/welcome?step=people").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/login"));

    // The API says what is wrong, and nothing moves.
    for (body, code) in [
        (json!({"step": "nowhere"}), "field_invalid"),
        (json!({}), "field_missing"),
        (json!({"step": "people", "finished": true}), "field_invalid"),
        (json!({"finished": "yes"}), "field_invalid"),
    ] {
        let r = dana
            .send_json(reqwest::Method::PUT, "/me/onboarding", body.clone())
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, code),
            "{body}"
        );
    }
    assert_eq!(dana.get("/me/onboarding").await.json["step"], "profile");
    for q in ["0", "51", "ten", "-1"] {
        let r = dana.get(&format!("/suggestions/people?limit={q}")).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "field_invalid"),
            "{q}"
        );
        let r = dana
            .get(&format!("/suggestions/communities?limit={q}"))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
    }
    // Moving on and finishing through the API.
    let r = dana
        .send_json(
            reqwest::Method::PUT,
            "/me/onboarding",
            json!({"step": "communities"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["step"].clone()),
        (StatusCode::OK, json!("communities"))
    );
    let r = dana
        .send_json(
            reqwest::Method::PUT,
            "/me/onboarding",
            json!({"finished": true}),
        )
        .await;
    assert_eq!(r.json["finished"], true);
    assert_eq!(r.json["step"], "communities");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggestions_follow_what_people_share_and_never_what_the_reader_may_not_see() {
    let app = TestApp::start().await;
    app.create_account("root", true);
    let root = app.login_api("root").await;
    let vic = app.user("vic").await;
    vic.patch(
        "/me",
        json!({"department": "R&D", "site": "Paris", "skills": ["Rust"]}),
    )
    .await;
    let ana = app.user("ana").await;
    ana.patch("/me", json!({"department": "r&d ", "site": "Paris"}))
        .await;
    let ben = app.user("ben").await;
    ben.patch("/me", json!({"site": "paris"})).await;
    let cid = app.user("cid").await;
    cid.patch("/me", json!({"skills": ["rust"]})).await;
    let _dan = app.user("dan").await;
    let eve = app.user("eve").await;
    eve.patch("/me", json!({"department": "R&D"})).await;
    root.post("/admin/users/eve/disable", json!({})).await;
    let fay = app.user("fay").await;
    for i in 0..3 {
        let r = fay
            .post(
                "/posts",
                json!({"body": format!("for my followers {i}"), "visibility": "followers"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let gus = app.user("gus").await;
    for i in 0..3 {
        gus.post_text(&format!("public news {i}")).await;
    }
    // ana follows dan: vic, who follows ana, may like dan.
    ana.post("/people/dan/follow", json!({})).await;

    let s = vic.get("/suggestions/people?limit=50").await;
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.json);
    let list = names(&s.json, "person");
    assert_eq!(list[0], "ana", "same department and site first: {list:?}");
    assert!(list.contains(&"ben".into()) && list.contains(&"cid".into()));
    assert!(list.contains(&"gus".into()), "writes in public: {list:?}");
    assert!(
        !list.contains(&"eve".into()),
        "a disabled account is not suggested"
    );
    assert!(
        !list.contains(&"fay".into()),
        "posts vic may not see count for nothing"
    );
    assert!(!list.contains(&"vic".into()));
    assert!(
        !list.contains(&"root".into()),
        "nothing in common: {list:?}"
    );
    assert_eq!(
        reasons_of(&s.json, "person", "ana"),
        vec![
            json!({"kind": "same_department"}),
            json!({"kind": "same_site"})
        ]
    );
    assert_eq!(
        reasons_of(&s.json, "person", "cid"),
        vec![json!({"kind": "shared_skills", "skills": ["rust"]})]
    );
    assert_eq!(
        reasons_of(&s.json, "person", "gus"),
        vec![json!({"kind": "active", "posts": 3})]
    );
    // Remote people of member instances have a domain; these are all here.
    assert!(s.json["items"][0]["domain"].is_null());
    let s = vic.get("/suggestions/people?limit=2").await;
    assert_eq!(names(&s.json, "person").len(), 2);

    // Once followed, someone is not suggested; those they follow are.
    vic.post("/people/ana/follow", json!({})).await;
    let s = vic.get("/suggestions/people?limit=50").await;
    let list = names(&s.json, "person");
    assert!(!list.contains(&"ana".into()));
    assert_eq!(
        reasons_of(&s.json, "person", "dan"),
        vec![json!({"kind": "followed_by_your_contacts", "count": 1})]
    );

    // Communities: about one's work, joined by people one follows.
    for (who, name, title, visibility, policy) in [
        (&ana, "rd_tools", "R&D tools", "public", "open"),
        (&ben, "lunch", "Lunch club", "public", "open"),
        (&ben, "board", "Board", "private", "request"),
        (&ben, "hidden", "Hidden R&D", "secret", "open"),
        (&ben, "invite", "R&D invitations", "public", "invitation"),
        (&ben, "mine", "Mine already", "public", "open"),
    ] {
        let r = who
            .post(
                "/communities",
                json!({"name": name, "title": title, "visibility": visibility, "join_policy": policy}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    }
    vic.post("/communities/mine/join", json!({})).await;
    let s = vic.get("/suggestions/communities?limit=50").await;
    assert_eq!(s.status, StatusCode::OK);
    let list = names(&s.json, "community");
    assert_eq!(list[0], "rd_tools", "{list:?}");
    assert!(list.contains(&"lunch".into()) && list.contains(&"board".into()));
    for absent in ["hidden", "invite", "mine"] {
        assert!(!list.contains(&absent.into()), "{absent} in {list:?}");
    }
    let why = reasons_of(&s.json, "community", "rd_tools");
    assert!(why.contains(&json!({"kind": "about_your_work", "topic": "r&d"})));
    assert!(why.contains(&json!({"kind": "members_you_follow", "count": 1})));
    assert!(why.contains(&json!({"kind": "of_your_site"})));
    assert!(!reasons_of(&s.json, "community", "board").contains(&json!({"kind": "open"})));
    // Who belongs to a community whose posts only members read is not told:
    // vic follows ben, owner of the private board and of the public lunch.
    vic.post("/people/ben/follow", json!({})).await;
    let s = vic.get("/suggestions/communities?limit=50").await;
    assert!(reasons_of(&s.json, "community", "lunch")
        .contains(&json!({"kind": "members_you_follow", "count": 1})));
    assert!(!reasons_of(&s.json, "community", "board")
        .iter()
        .any(|r| r["kind"] == "members_you_follow"));

    // The home page shows a few, with buttons that return to the feed.
    let b = app.browser_login("vic").await;
    let home = b.html("/?stream=site").await;
    assert!(home.contains("Suggested for you"));
    assert!(home.contains("action=\"/communities/rd_tools/join\""));
    assert!(home.contains("name=\"back\" value=\"/?stream=site\""));
}
