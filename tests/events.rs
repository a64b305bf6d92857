//! Events (`content::event`): planned in a community or for an audience,
//! answered going, maybe or not going, with a capacity and a waiting
//! list; reminders, changes, calendars (an event's `.ics`, one's private
//! subscription); over HTTP, through the API and the pages.

mod common;

use common::*;
use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Next year, for dates that stay in the future (June in Paris is UTC+2,
/// March UTC+1 before its last Sunday).
fn year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year() + 1
}

/// The last Sunday of March next year, when Paris skips 02:00–03:00.
fn summer_time_day() -> String {
    use chrono::Datelike;
    let mut d = chrono::NaiveDate::from_ymd_opt(year(), 3, 31).unwrap();
    while d.weekday() != chrono::Weekday::Sun {
        d = d.pred_opt().unwrap();
    }
    d.format("%Y-%m-%d").to_string()
}

/// A local time `days` from now at 09:00, as a form gives it.
fn local_day(days: i64, hour: u32) -> String {
    let d = chrono::Utc::now().date_naive() + chrono::Duration::days(days);
    format!("{}T{hour:02}:00", d.format("%Y-%m-%d"))
}

async fn plan(api: &Api, body: Value) -> i64 {
    let r = api.post("/events", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["kind"], "event", "{}", r.json);
    r.json["id"].as_i64().unwrap()
}

async fn rsvp(api: &Api, id: i64, answer: &str) -> Resp {
    api.send_json(
        Method::PUT,
        &format!("/events/{id}/rsvp"),
        json!({ "answer": answer }),
    )
    .await
}

fn told(v: &Value, kind: &str, id: i64) -> usize {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == kind && i["content_id"] == id)
        .count()
}

fn ids(v: &Value) -> Vec<i64> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

/// Moves an event's dates, as time passing would.
fn shift(app: &TestApp, id: i64, starts_in: chrono::Duration, lasts: chrono::Duration) {
    use ruche::db::schema::event_details as e;
    let mut conn = app.db.get().unwrap();
    let start = chrono::Utc::now().naive_utc() + starts_in;
    diesel::update(e::table.find(id))
        .set((e::starts_at.eq(start), e::ends_at.eq(start + lasts)))
        .execute(&mut *conn)
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_answered_and_its_places_go_to_those_who_wait() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dave = app.user("dave").await;
    let erin = app.user("erin").await;
    let r = alice
        .post(
            "/communities",
            json!({"name": "securite", "title": "Sécurité"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    for who in [&bob, &carol, &dave] {
        let r = who.post("/communities/securite/join", json!({})).await;
        assert!(r.status.is_success(), "{}", r.json);
    }
    // Planned in Paris time: a local 09:00 in June is 07:00 UTC.
    let id = plan(
        &alice,
        json!({"community": "securite", "title": "Safety training, line 3",
               "starts_at": format!("{}-06-10T09:00", year()), "ends_at": format!("{}-06-10T11:30", year()),
               "time_zone": "Europe/Paris", "place": "Building B, room 204",
               "online_url": "https://meet.example/safety", "capacity": 2,
               "body": "Bring your **badge**."}),
    )
    .await;
    let r = bob.get(&format!("/events/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["starts_at"], format!("{}-06-10T07:00:00Z", year()));
    assert_eq!(r.json["ends_at"], format!("{}-06-10T09:30:00Z", year()));
    assert_eq!(r.json["time_zone"], "Europe/Paris");
    assert_eq!(
        (r.json["remaining"].as_i64(), r.json["may_answer"].as_bool()),
        (Some(2), Some(true))
    );
    // Two places, then the waiting list.
    assert_eq!(rsvp(&bob, id, "going").await.json["going"], 1);
    let r = rsvp(&carol, id, "going").await;
    assert_eq!(
        (r.json["going"].as_i64(), r.json["remaining"].as_i64()),
        (Some(2), Some(0))
    );
    let r = rsvp(&dave, id, "going").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(
        (
            r.json["on_waiting_list"].as_bool(),
            r.json["going"].as_i64(),
            r.json["waiting"].as_i64()
        ),
        (Some(true), Some(2), Some(1))
    );
    // Saying it again keeps one's turn and changes nothing.
    let r = rsvp(&dave, id, "going").await;
    assert_eq!(
        (
            r.json["on_waiting_list"].as_bool(),
            r.json["waiting"].as_i64()
        ),
        (Some(true), Some(1))
    );
    // Only members answer.
    let r = rsvp(&erin, id, "going").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_members_only")
    );
    // Bob gives his place back: Dave gets it and is told.
    let r = bob.delete(&format!("/events/{id}/rsvp")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert!(r.json["answer"].is_null());
    let r = dave.get(&format!("/events/{id}")).await;
    assert_eq!(
        (
            r.json["answer"].as_str(),
            r.json["on_waiting_list"].as_bool(),
            r.json["waiting"].as_i64()
        ),
        (Some("going"), Some(false), Some(0))
    );
    assert_eq!(
        told(&dave.get("/notifications").await.json, "event_place", id),
        1
    );
    // Carol may come after all; Bob will not.
    assert_eq!(rsvp(&carol, id, "maybe").await.json["maybe"], 1);
    assert_eq!(rsvp(&bob, id, "declined").await.json["going"], 1);
    let r = carol.get(&format!("/events/{id}/attendees")).await;
    let who: Vec<(String, String)> = r
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["username"].as_str().unwrap().to_string(),
                a["answer"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        who,
        [
            ("dave".to_string(), "going".to_string()),
            ("carol".to_string(), "maybe".to_string()),
            ("bob".to_string(), "declined".to_string())
        ]
    );
    // It is in the community's feed, the lists, and found by its title.
    let r = erin.get("/communities/securite/posts").await;
    let item = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .cloned()
        .unwrap();
    assert_eq!(item["event"]["title"], "Safety training, line 3");
    assert_eq!(item["event"]["may_answer"], false);
    assert_eq!(ids(&dave.get("/events?when=mine").await.json), [id]);
    assert!(ids(&bob.get("/events?when=mine").await.json).is_empty());
    assert_eq!(
        ids(&erin.get("/events?community=securite").await.json),
        [id]
    );
    assert!(ids(&erin.get("/events?when=past").await.json).is_empty());
    let r = erin.get("/search?q=training").await;
    assert_eq!(r.json["content"][0]["id"], id, "{}", r.json);

    // The organiser moves it: those who answered going or maybe are told.
    let r = alice
        .patch(
            &format!("/events/{id}"),
            json!({"title": "Safety training, line 3", "starts_at": format!("{}-06-11T14:00:00+02:00", year()),
                   "ends_at": format!("{}-06-11T16:00:00+02:00", year()), "time_zone": "Europe/Paris",
                   "place": "Building B, room 204", "online_url": "https://meet.example/safety",
                   "capacity": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["starts_at"], format!("{}-06-11T12:00:00Z", year()));
    assert_eq!(
        told(&dave.get("/notifications").await.json, "event_changed", id),
        1
    );
    assert_eq!(
        told(&carol.get("/notifications").await.json, "event_changed", id),
        1
    );
    assert_eq!(
        told(&bob.get("/notifications").await.json, "event_changed", id),
        0
    );
    // Only its organiser changes it; not below the places given.
    let r = bob
        .patch(
            &format!("/events/{id}"),
            json!({"title": "Mine", "starts_at": format!("{}-06-11T14:00", year()), "time_zone": "UTC"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "not_author"));
    let r = alice
        .patch(
            &format!("/events/{id}"),
            json!({"title": "Safety training", "starts_at": format!("{}-06-11T14:00", year()), "time_zone": "Europe/Paris", "capacity": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = rsvp(&carol, id, "going").await;
    assert_eq!(r.json["on_waiting_list"], true, "{}", r.json);
    let r = alice
        .patch(
            &format!("/events/{id}"),
            // No limit any more: whoever waits comes.
            json!({"title": "Safety training", "starts_at": format!("{}-06-11T14:00", year()), "time_zone": "Europe/Paris"}),
        )
        .await;
    assert_eq!(
        (r.json["going"].as_i64(), r.json["waiting"].as_i64()),
        (Some(2), Some(0)),
        "{}",
        r.json
    );
    assert_eq!(
        told(&carol.get("/notifications").await.json, "event_place", id),
        1
    );

    // The day before, those who go or may go are reminded, once.
    rsvp(&bob, id, "maybe").await;
    rsvp(&alice, id, "maybe").await;
    shift(
        &app,
        id,
        chrono::Duration::hours(3),
        chrono::Duration::hours(2),
    );
    {
        let mut conn = app.db.get().unwrap();
        assert_eq!(ruche::content::event::remind_due(&mut conn).unwrap(), 1);
        assert_eq!(ruche::content::event::remind_due(&mut conn).unwrap(), 0);
    }
    // The organiser too, who may come.
    for who in [&alice, &bob, &carol, &dave] {
        assert_eq!(
            told(&who.get("/notifications").await.json, "event_reminder", id),
            1
        );
    }
    assert_eq!(
        told(&erin.get("/notifications").await.json, "event_reminder", id),
        0
    );
    // Once over, it is past and takes no answer.
    shift(
        &app,
        id,
        -chrono::Duration::hours(3),
        chrono::Duration::hours(2),
    );
    let r = rsvp(&erin, id, "going").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = rsvp(&bob, id, "going").await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "event_over"));
    assert_eq!(ids(&erin.get("/events?when=past").await.json), [id]);
    assert!(ids(&erin.get("/events").await.json).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendars_carry_the_events_one_goes_to() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let id = plan(
        &alice,
        json!({"title": "Visite du site de Lyon, atelier 2; accès B", "starts_at": format!("{}-03-02T10:00", year()),
               "ends_at": format!("{}-03-02T12:00", year()), "time_zone": "Europe/Paris",
               "place": "Lyon, 10 rue de l'Usine", "body": "Chaussures de sécurité obligatoires."}),
    )
    .await;
    // A description typed in a browser (CRLF) cannot add lines to a
    // calendar.
    let sneaky = plan(
        &alice,
        json!({"title": "Sneaky", "starts_at": format!("{}-03-05T10:00", year()), "time_zone": "UTC",
               "body": "First line\r\nBEGIN:VEVENT\r\nSUMMARY:Injected\rEND:VEVENT"}),
    )
    .await;
    let browser = app.browser_login("bob").await;
    let ics = browser
        .get(&format!("/events/{sneaky}/calendar.ics"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(ics.matches("\r\nBEGIN:VEVENT\r\n").count(), 1, "{ics}");
    assert!(!ics.contains("\r\nSUMMARY:Injected"), "{ics}");
    assert!(!ics.replace("\r\n", "").contains('\r'), "{ics}");
    let other = plan(
        &alice,
        json!({"title": "Not for Bob", "starts_at": format!("{}-03-03T10:00", year()), "time_zone": "UTC"}),
    )
    .await;
    // One event's file, for whoever may read it.
    let r = browser.get(&format!("/events/{id}/calendar.ics")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    let ics = r.text().await.unwrap();
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
    assert!(
        ics.contains(&format!("DTSTART:{}0302T090000Z\r\n", year())),
        "{ics}"
    );
    assert!(
        ics.contains(&format!("DTEND:{}0302T110000Z\r\n", year())),
        "{ics}"
    );
    // Text is escaped as iCalendar wants it (commas, semicolons).
    assert!(
        ics.contains("SUMMARY:Visite du site de Lyon\\, atelier 2\\; accès B"),
        "{ics}"
    );
    assert!(ics.contains("LOCATION:Lyon\\, 10 rue de l'Usine"), "{ics}");
    assert!(ics.contains(&format!("/posts/{id}")), "{ics}");
    // Lines are folded at 75 octets.
    assert!(ics.split("\r\n").all(|l| l.len() <= 75), "{ics}");
    // A private subscription: only the events one answered going or maybe.
    rsvp(&bob, id, "going").await;
    rsvp(&bob, other, "declined").await;
    let r = bob.post("/me/calendar", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let url = r.json["url"].as_str().unwrap().to_string();
    assert!(url.contains("/calendar/") && url.ends_with(".ics"), "{url}");
    let plain = reqwest::Client::new();
    let ics = plain.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(ics.contains("Visite du site de Lyon"), "{ics}");
    assert!(!ics.contains("Not for Bob"), "{ics}");
    assert_eq!(app.count("calendar_feeds"), 1);
    // A new address stops the old one; a wrong one is a 404 like a stopped one.
    let again = bob.post("/me/calendar", json!({})).await.json["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        plain.get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        plain.get(&again).send().await.unwrap().status(),
        StatusCode::OK
    );
    let wrong = app.url("/calendar/nothing-here.ics");
    assert_eq!(
        plain.get(&wrong).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let r = bob.delete("/me/calendar").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        plain.get(&again).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.count("calendar_feeds"), 0);
    // An event one may not read has no file for them.
    let secret = plan(
        &alice,
        json!({"title": "Followers only", "starts_at": format!("{}-03-04T10:00", year()), "time_zone": "UTC", "visibility": "followers"}),
    )
    .await;
    let r = browser.get(&format!("/events/{secret}/calendar.ics")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_events_and_answers_are_refused_and_nothing_is_stored() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let base =
        json!({"title": "Kick-off", "starts_at": local_day(10, 9), "time_zone": "Europe/Paris"});
    let with = |extra: Value| {
        let mut b = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let before = (app.count("content"), app.count("event_details"));
    for (body, code) in [
        (with(json!({"title": " "})), "title_required"),
        (
            with(json!({"time_zone": "Mars/Olympus"})),
            "event_time_zone_unknown",
        ),
        (
            with(json!({"starts_at": "tomorrow"})),
            "event_start_invalid",
        ),
        (
            with(json!({"starts_at": "2020-01-01T09:00"})),
            "event_start_past",
        ),
        (
            with(json!({"starts_at": "2099-01-01T09:00"})),
            "event_start_too_far",
        ),
        // A year chrono reads, whose arithmetic would overflow.
        (
            with(json!({"starts_at": "+262142-12-31T23:30", "time_zone": "UTC"})),
            "event_start_invalid",
        ),
        (
            with(json!({"ends_at": local_day(9, 9)})),
            "event_end_before_start",
        ),
        (with(json!({"ends_at": local_day(60, 9)})), "event_too_long"),
        (with(json!({"ends_at": "soon"})), "event_end_invalid"),
        (
            with(json!({"place": "x".repeat(201)})),
            "event_place_too_long",
        ),
        (
            with(json!({"online_url": "javascript:alert(1)"})),
            "event_link_invalid",
        ),
        (
            with(json!({"online_url": "meet.example/room"})),
            "event_link_invalid",
        ),
        (with(json!({"capacity": 0})), "event_capacity_invalid"),
        (with(json!({"capacity": 200000})), "event_capacity_invalid"),
        (
            with(json!({"visibility": "everyone"})),
            "visibility_invalid",
        ),
        // Skipped by the clocks (Paris, the last Sunday of March).
        (
            with(json!({"starts_at": format!("{}T02:30", summer_time_day())})),
            "event_start_invalid",
        ),
    ] {
        let r = alice.post("/events", body.clone()).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, code),
            "{body} {}",
            r.json
        );
    }
    let r = alice.post("/events", json!({"title": "No date"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json);
    let r = alice
        .post("/events", with(json!({"community": "nowhere"})))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!((app.count("content"), app.count("event_details")), before);

    // Full without a waiting list: refused, and nothing stored.
    let id = plan(&alice, with(json!({"capacity": 1, "waiting_list": false}))).await;
    assert_eq!(rsvp(&alice, id, "going").await.json["going"], 1);
    let rsvps = app.count("event_rsvps");
    let r = rsvp(&bob, id, "going").await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "event_full"));
    assert!(r.message().contains('1'), "{}", r.message());
    let r = rsvp(&bob, id, "perhaps").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "event_answer_unknown")
    );
    assert_eq!(app.count("event_rsvps"), rsvps);
    // Maybe is no place: it is taken.
    assert_eq!(rsvp(&bob, id, "maybe").await.json["maybe"], 1);
    // A post is no event; a deleted event takes no answer.
    let post = alice.post_text("Plain post").await;
    assert_eq!(
        rsvp(&bob, post, "going").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        bob.get(&format!("/events/{post}")).await.status,
        StatusCode::NOT_FOUND
    );
    let r = alice.delete(&format!("/posts/{id}")).await;
    assert!(r.status.is_success());
    assert_eq!(rsvp(&bob, id, "going").await.status, StatusCode::NOT_FOUND);
    // Switched off for the site: no event is planned, and the ones written
    // stay readable.
    let kept = plan(&alice, base.clone()).await;
    app.create_account("root", true);
    let root = app.login_api("root").await;
    let r = root
        .send_json(Method::PUT, "/admin/apps/events", json!({"enabled": false}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = alice.post("/events", base.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "app_disabled")
    );
    let r = rsvp(&bob, kept, "going").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "app_disabled")
    );
    let r = bob.get(&format!("/posts/{kept}")).await;
    assert_eq!(r.json["event"]["title"], "Kick-off", "{}", r.json);
    assert_eq!(r.json["event"]["may_answer"], false);
    let r = alice.get("/events?when=later").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "event_filter_unknown")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_planned_and_answered_from_the_pages() {
    let app = TestApp::start().await;
    let _alice_api = app.user("alice").await;
    let _bob_api = app.user("bob").await;
    let alice = app.browser_login("alice").await;
    let bob = app.browser_login("bob").await;
    let html = alice.html("/events/new").await;
    assert!(html.contains("type=\"datetime-local\""), "{html}");
    assert!(html.contains("<option value=\"Europe/Paris\">"), "{html}");
    let csrf = alice.csrf("/events/new").await;
    let start = local_day(12, 9);
    let end = local_day(12, 8);
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("title", "Atelier 5S"),
        ("starts_at", start.as_str()),
        ("ends_at", end.as_str()),
        ("time_zone", "Europe/Paris"),
        ("place", "Salle Jura"),
        ("online_url", ""),
        ("capacity", "12"),
        ("waiting_list", "1"),
        ("body", "Pour toute l'équipe"),
        ("community", ""),
        ("visibility", "followers"),
    ];
    // A refused event keeps what was written and chosen.
    let r = alice.post_form("/events/new", &fields).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("The event must end after it starts."),
        "{html}"
    );
    for kept in [
        "Atelier 5S",
        "Salle Jura",
        "value=\"12\"",
        "Pour toute l&#39;équipe",
        "value=\"Europe/Paris\"",
    ] {
        assert!(html.contains(kept), "{kept}: {html}");
    }
    assert!(
        html.contains("<option value=\"followers\" selected>"),
        "{html}"
    );
    let end = local_day(12, 11);
    fields[3] = ("ends_at", end.as_str());
    fields[11] = ("visibility", "public");
    let r = alice.post_form("/events/new", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let post = location(&r);
    let id: i64 = post.trim_start_matches("/posts/").parse().unwrap();
    // Bob answers from the event's page, in French.
    let html = bob.get_lang(&post, "fr").await.text().await.unwrap();
    assert!(
        html.contains("Atelier 5S") && html.contains("Salle Jura"),
        "{html}"
    );
    assert!(html.contains("Je participe"), "{html}");
    assert!(
        html.contains(&format!("/events/{id}/calendar.ics")),
        "{html}"
    );
    let csrf = bob.csrf(&post).await;
    let r = bob
        .post_form(
            &format!("/events/{id}/rsvp"),
            &[("csrf", &csrf), ("answer", "going")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = bob.html(&post).await;
    assert!(html.contains("You go"), "{html}");
    assert!(html.contains("1 going"), "{html}");
    let html = bob.html("/events?when=mine").await;
    assert!(html.contains("Atelier 5S"), "{html}");
    let html = alice.html(&format!("/events/{id}/attendees")).await;
    assert!(html.contains("@bob"), "{html}");
    // The organiser changes it from its page; a bad change keeps the form.
    let edit = format!("/events/{id}/edit");
    let html = alice.html(&edit).await;
    assert!(html.contains("value=\"Salle Jura\""), "{html}");
    assert!(html.contains(&format!("value=\"{start}\"")), "{html}");
    let csrf_a = alice.csrf(&edit).await;
    let moved = local_day(13, 14);
    let mut change = vec![
        ("csrf", csrf_a.as_str()),
        ("title", "Atelier 5S"),
        ("starts_at", moved.as_str()),
        ("ends_at", start.as_str()),
        ("time_zone", "Europe/Paris"),
        ("place", "Salle Vosges"),
        ("capacity", "12"),
        ("waiting_list", "1"),
    ];
    let r = alice.post_form(&edit, &change).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("The event must end after it starts.") && html.contains("Salle Vosges"),
        "{html}"
    );
    change[3] = ("ends_at", "");
    let r = alice.post_form(&edit, &change).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = bob.html(&post).await;
    assert!(html.contains("Salle Vosges"), "{html}");
    assert!(!html.contains(&edit), "only its organiser changes it");
    assert_eq!(bob.get(&edit).await.status(), StatusCode::FORBIDDEN);
    // The calendar address is shown once, then offered anew.
    let r = bob
        .post_form("/events/calendar", &[("csrf", &csrf), ("action", "make")])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("/calendar/") && html.contains(".ics"),
        "{html}"
    );
    let html = bob.html("/events?when=mine").await;
    assert!(!html.contains("/calendar/"), "{html}");
    assert!(html.contains("Make a new address"), "{html}");
}
