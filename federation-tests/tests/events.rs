//! Events across sites and with other servers: an event is an `Event`
//! (`startTime`, `endTime`, `timezone`, `location`, Mobilizon's capacity
//! and count; a summary line Mastodon shows); answers travel as `Accept`
//! (going), `TentativeAccept` (maybe), `Reject` (not going) and the `Undo`
//! of one, as Friendica sends them, and Mobilizon's `Join` and `Leave` are
//! read and, for its events, sent; the organiser's site counts and
//! publishes the counts.

use chrono::Datelike;
use federation_tests::{
    eventually, fixture, follow, network, wait_count, Api, ForeignServer, Instance,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The local id of the only event titled `title` on `i`.
async fn event_on(i: &Instance, title: &str) -> i64 {
    let q = format!(
        "SELECT COUNT(*) FROM content c JOIN event_details e ON e.content_id = c.id WHERE c.kind = 'event' AND e.title = '{title}'"
    );
    wait_count(i, &q, 1, &format!("the event \"{title}\" on {}", i.base)).await;
    i.count(&format!(
        "SELECT c.id FROM content c JOIN event_details e ON e.content_id = c.id WHERE e.title = '{title}'"
    ))
}

async fn view(api: &Api, id: i64) -> Value {
    let (s, v) = api.get(&format!("/api/v1/events/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn rsvp(api: &Api, id: i64, answer: Option<&str>) -> Value {
    let (s, v) = match answer {
        Some(a) => {
            api.call(
                Method::PUT,
                &format!("/api/v1/events/{id}/rsvp"),
                Some(json!({ "answer": a })),
            )
            .await
        }
        None => {
            api.call(Method::DELETE, &format!("/api/v1/events/{id}/rsvp"), None)
                .await
        }
    };
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

/// Waits until `api` sees `field` of event `id` equal to `want`.
async fn wait_field(api: &Api, id: i64, field: &str, want: Value, what: &str) {
    eventually(15, what, || async {
        (view(api, id).await[field] == want).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_answered_from_other_sites_and_friendica() {
    let [mut alpha, mut beta, gamma] = network();
    let foreign = ForeignServer::start().await;
    for i in [&alpha, &beta] {
        i.trust(&foreign.authority(), "partner");
    }
    alpha.trust("beta.test", "member");
    beta.trust("alpha.test", "member");
    alpha.start().await;
    beta.start().await;
    drop(gamma);
    let ann = alpha.user("ann").await;
    let bea = beta.user("bea").await;
    follow(&bea, &beta, &alpha.handle("ann")).await;
    let ann_url = format!("{}/people/ann", alpha.base);
    let alice = format!("{}/users/alice", foreign.base);
    let (s, b) = foreign
        .send(
            &format!("{}/people/ann/inbox", alpha.base),
            "mastodon_follow.json",
            &format!("{alice}#main-key"),
            &ann_url,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    eventually(10, "alice's follow", || async {
        (alpha.count("SELECT COUNT(*) FROM follows WHERE accepted") >= 2).then_some(())
    })
    .await;

    // Next year, in Paris summer time.
    let y = chrono::Utc::now().year() + 1;
    let (s, p) = ann
        .post(
            "/api/v1/events",
            json!({"title": "Open day, Lyon plant", "starts_at": format!("{y}-04-15T09:00"),
                   "ends_at": format!("{y}-04-15T17:00"), "time_zone": "Europe/Paris",
                   "place": "Lyon plant, gate 2", "online_url": "https://meet.example/open-day",
                   "capacity": 1, "body": "Tours every **hour**."}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let here = p["id"].as_i64().unwrap();
    let event_url = format!("{}/posts/{here}", alpha.base);
    // Mastodon gets an Event: a title, a summary line with the date and
    // the place, the text, and Mobilizon's fields.
    let create = eventually(10, "the event at Mastodon", || async {
        foreign
            .received()
            .into_iter()
            .find(|(_, _, v)| v["type"] == "Create" && v["object"]["type"] == "Event")
    })
    .await
    .2;
    let ev = &create["object"];
    assert_eq!(ev["name"], "Open day, Lyon plant", "{ev}");
    assert_eq!(ev["startTime"], format!("{y}-04-15T07:00:00Z"));
    assert_eq!(ev["endTime"], format!("{y}-04-15T15:00:00Z"));
    assert_eq!(ev["timezone"], "Europe/Paris");
    assert_eq!(ev["location"]["name"], "Lyon plant, gate 2");
    assert_eq!(ev["maximumAttendeeCapacity"], 1);
    assert_eq!(ev["participantCount"], 0);
    let summary = ev["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(&format!("{y}-04-15 09:00 – 17:00 (Europe/Paris)")),
        "{summary}"
    );
    assert!(summary.contains("Lyon plant, gate 2"), "{summary}");
    assert!(ev["content"]
        .as_str()
        .unwrap()
        .contains("<strong>hour</strong>"));
    let link = ev["attachment"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "Link")
        .cloned()
        .unwrap();
    assert_eq!(link["href"], "https://meet.example/open-day");

    // beta keeps it as an event, and bea answers from there.
    let on_beta = event_on(&beta, "Open day, Lyon plant").await;
    let v = view(&bea, on_beta).await;
    assert_eq!(v["starts_at"], format!("{y}-04-15T07:00:00Z"), "{v}");
    assert_eq!(
        (
            v["remote"].as_bool(),
            v["capacity"].as_i64(),
            v["place"].as_str()
        ),
        (Some(true), Some(1), Some("Lyon plant, gate 2"))
    );
    assert_eq!(v["online_url"], "https://meet.example/open-day");
    let v = rsvp(&bea, on_beta, Some("going")).await;
    assert_eq!(v["answer"], "going");
    // ann's site counts it, and publishes the count back.
    wait_field(&ann, here, "going", json!(1), "alpha to count bea").await;
    wait_field(
        &bea,
        on_beta,
        "going",
        json!(1),
        "beta to take alpha's count",
    )
    .await;
    let (_, who) = ann.get(&format!("/api/v1/events/{here}/attendees")).await;
    assert!(
        who[0]["username"]
            .as_str()
            .unwrap()
            .starts_with("bea@beta.test"),
        "{who}"
    );
    // A Friendica user may come (TentativeAccept of the event).
    let mut maybe: Value = serde_json::from_str(&fixture(
        "friendica_tentative_accept.json",
        &foreign.base,
        &foreign.public_pem(),
        &event_url,
    ))
    .unwrap();
    maybe["to"] = json!([ann_url]);
    let inbox = format!("{}/people/ann/inbox", alpha.base);
    let (s, b) = foreign.send_value(&inbox, &maybe).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    wait_field(
        &ann,
        here,
        "maybe",
        json!(1),
        "alpha to count alice's maybe",
    )
    .await;
    // Going once it is full: the waiting list, for Mobilizon's Join too.
    let mut join: Value = serde_json::from_str(&fixture(
        "mobilizon_join.json",
        &foreign.base,
        &foreign.public_pem(),
        &event_url,
    ))
    .unwrap();
    join["to"] = json!([ann_url]);
    let (s, b) = foreign.send_value(&inbox, &join).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    wait_field(&ann, here, "waiting", json!(1), "alice on the waiting list").await;
    assert_eq!(view(&ann, here).await["maybe"], 0);
    // An Undo of her earlier answer withdraws that one only, not her Join.
    let undo = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/objects/undo-1", foreign.base),
        "type": "Undo",
        "actor": alice,
        "object": {"id": maybe["id"], "type": "TentativeAccept", "actor": alice, "object": event_url},
    });
    let (s, b) = foreign.send_value(&inbox, &undo).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(view(&ann, here).await["waiting"], 1);
    // bea changes her mind on beta: alpha hears maybe, and alice gets the place.
    rsvp(&bea, on_beta, Some("maybe")).await;
    wait_field(&ann, here, "maybe", json!(1), "alpha to take bea's maybe").await;
    let v = view(&ann, here).await;
    assert_eq!(
        (v["going"].as_i64(), v["waiting"].as_i64()),
        (Some(1), Some(0)),
        "{v}"
    );
    assert!(
        foreign
            .received()
            .iter()
            .all(|(_, _, v)| v["type"] != "TentativeAccept"),
        "bea's answer goes to alpha only"
    );
    // Mobilizon's Leave gives the place back; bea's withdrawal is an Undo.
    let mut leave: Value = serde_json::from_str(&fixture(
        "mobilizon_leave.json",
        &foreign.base,
        &foreign.public_pem(),
        &event_url,
    ))
    .unwrap();
    leave["to"] = json!([ann_url]);
    let (s, b) = foreign.send_value(&inbox, &leave).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    wait_field(&ann, here, "going", json!(0), "alice to leave").await;
    rsvp(&bea, on_beta, None).await;
    wait_field(
        &ann,
        here,
        "maybe",
        json!(0),
        "alpha to take bea's withdrawal",
    )
    .await;
    assert_eq!(
        alpha.count("SELECT COUNT(*) FROM event_rsvps"),
        0,
        "no answer left"
    );
    // An answer to an event the sender may not see is refused, and stored
    // nowhere.
    let (s, p) = ann
        .post(
            "/api/v1/events",
            json!({"title": "Site only", "starts_at": format!("{y}-04-16T09:00"), "time_zone": "UTC", "visibility": "instance"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let hidden = format!("{}/posts/{}", alpha.base, p["id"]);
    let mut sneak = join.clone();
    sneak["id"] = json!(format!("{}/users/alice/join/event/2", foreign.base));
    sneak["object"] = json!(hidden);
    let (s, _) = foreign.send_value(&inbox, &sneak).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(alpha.count("SELECT COUNT(*) FROM event_rsvps"), 0);

    // ann moves it: beta takes the new dates and tells bea, who answered.
    rsvp(&bea, on_beta, Some("going")).await;
    wait_field(&ann, here, "going", json!(1), "bea going again").await;
    let (s, v) = ann
        .call(
            Method::PATCH,
            &format!("/api/v1/events/{here}"),
            Some(
                json!({"title": "Open day, Lyon plant", "starts_at": format!("{y}-04-16T09:00"),
                        "ends_at": format!("{y}-04-16T17:00"), "time_zone": "Europe/Paris",
                        "place": "Lyon plant, gate 3", "capacity": 1}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    wait_field(
        &bea,
        on_beta,
        "place",
        json!("Lyon plant, gate 3"),
        "beta to take the move",
    )
    .await;
    assert_eq!(
        view(&bea, on_beta).await["starts_at"],
        format!("{y}-04-16T07:00:00Z")
    );
    eventually(10, "bea to be told of the move", || async {
        let (_, n) = bea.get("/api/v1/notifications").await;
        n["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "event_changed" && i["content_id"] == on_beta)
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mobilizon_event_is_read_and_answered_with_join_and_leave() {
    let [alpha, mut beta, gamma] = network();
    drop(alpha);
    drop(gamma);
    let foreign = ForeignServer::start().await;
    beta.trust(&foreign.authority(), "partner");
    beta.start().await;
    let bob = beta.user("bob").await;
    let bob_url = format!("{}/people/bob", beta.base);
    let alice = format!("{}/users/alice", foreign.base);
    let (s, b) = foreign
        .send(
            &format!("{}/people/bob/inbox", beta.base),
            "mobilizon_create_event.json",
            &format!("{alice}#main-key"),
            &bob_url,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    wait_count(
        &beta,
        "SELECT COUNT(*) FROM content WHERE kind = 'event'",
        1,
        "the Mobilizon event on beta",
    )
    .await;
    let id = beta.count(
        "SELECT c.id FROM content c JOIN event_details e ON e.content_id = c.id WHERE c.kind = 'event'",
    );
    let v = view(&bob, id).await;
    assert_eq!(v["title"], "Repair café de l'atelier", "{v}");
    assert_eq!(v["starts_at"], "2087-05-10T12:00:00Z");
    assert_eq!(v["ends_at"], "2087-05-10T16:00:00Z");
    assert_eq!(v["time_zone"], "Europe/Paris");
    assert_eq!(v["place"], "Locaux, 10 Rue Jangot, 69007 Lyon, France");
    assert_eq!(v["online_url"], "https://meet.example/repair-cafe");
    assert_eq!(
        (
            v["capacity"].as_i64(),
            v["going"].as_i64(),
            v["remaining"].as_i64()
        ),
        (Some(20), Some(3), Some(17))
    );
    let (_, post) = bob.get(&format!("/api/v1/posts/{id}")).await;
    assert!(
        post["body_html"]
            .as_str()
            .unwrap()
            .contains("Bring broken tools"),
        "{post}"
    );
    // bob goes: Mobilizon reads a Join of its event; then a Leave.
    rsvp(&bob, id, Some("going")).await;
    let event_id = format!(
        "{}/events/1b6e2f4a-9c1d-4e55-8a0b-3f2d7c9e1a20",
        foreign.base
    );
    let join = eventually(10, "the Join at Mobilizon", || async {
        foreign
            .received()
            .into_iter()
            .find(|(_, _, v)| v["type"] == "Join")
    })
    .await
    .2;
    assert_eq!(join["object"], event_id, "{join}");
    assert_eq!(join["actor"], bob_url);
    rsvp(&bob, id, Some("declined")).await;
    let leave = eventually(10, "the Leave at Mobilizon", || async {
        foreign
            .received()
            .into_iter()
            .find(|(_, _, v)| v["type"] == "Leave")
    })
    .await
    .2;
    assert_eq!(leave["object"], event_id, "{leave}");
    assert_eq!(
        foreign.count_type("TentativeAccept") + foreign.count_type("Accept"),
        0
    );
}
