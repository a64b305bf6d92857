//! Ideas (`content::idea`): submitted to a community, voted for, moved by
//! its moderators, listed; over HTTP, through the API and the pages.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A public community `labo` of Alice (its owner) with Bob as a member.
async fn labo(app: &TestApp) -> (Api, Api) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let r = alice
        .post("/communities", json!({"name": "labo", "title": "Labo"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let r = bob.post("/communities/labo/join", json!({})).await;
    assert!(r.status.is_success(), "{}", r.json);
    (alice, bob)
}

/// Submits an idea through the API; its id.
async fn submit(api: &Api, title: &str, body: &str) -> i64 {
    let r = api
        .post(
            "/ideas",
            json!({"community": "labo", "title": title, "body": body}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["kind"], "idea", "{}", r.json);
    r.json["id"].as_i64().unwrap()
}

async fn put(api: &Api, path: &str, body: Value) -> Resp {
    api.send_json(Method::PUT, path, body).await
}

fn told(v: &Value, kind: &str, id: i64) -> usize {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == kind && i["content_id"] == id)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idea_is_submitted_voted_for_moved_and_listed() {
    let app = TestApp::start().await;
    let (alice, bob) = labo(&app).await;
    let carol = app.user("carol").await;
    let id = submit(
        &bob,
        "  Share   the meeting rooms' screens ",
        "Both sites have **idle** screens.",
    )
    .await;
    let r = bob.get(&format!("/ideas/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    // The title is kept on one line, without its extra spaces.
    assert_eq!(r.json["title"], "Share the meeting rooms' screens");
    assert_eq!(r.json["status"], "new");
    assert_eq!(r.json["votes"], 0);
    assert_eq!(
        (r.json["may_vote"].as_bool(), r.json["may_move"].as_bool()),
        (Some(true), Some(false))
    );
    // Its owner may move it.
    assert_eq!(
        alice.get(&format!("/ideas/{id}")).await.json["may_move"],
        true
    );
    // The feed of the community shows it with its title.
    let r = carol.get("/communities/labo/posts").await;
    assert_eq!(
        r.json["items"][0]["idea"]["title"],
        "Share the meeting rooms' screens"
    );
    assert_eq!(r.json["items"][0]["idea"]["may_vote"], false);

    // Members vote once each; a second vote changes nothing; someone who
    // is not a member is refused.
    let r = put(&alice, &format!("/ideas/{id}/vote"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(
        (r.json["votes"].as_i64(), r.json["voted"].as_bool()),
        (Some(1), Some(true))
    );
    let r = put(&alice, &format!("/ideas/{id}/vote"), json!({})).await;
    assert_eq!(r.json["votes"], 1);
    let r = put(&bob, &format!("/ideas/{id}/vote"), json!({})).await;
    assert_eq!(r.json["votes"], 2);
    let r = put(&carol, &format!("/ideas/{id}/vote"), json!({})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_members_only")
    );
    // A vote is withdrawn, and given again.
    let r = alice.delete(&format!("/ideas/{id}/vote")).await;
    assert_eq!(
        (r.json["votes"].as_i64(), r.json["voted"].as_bool()),
        (Some(1), Some(false))
    );
    let r = put(&alice, &format!("/ideas/{id}/vote"), json!({})).await;
    assert_eq!(r.json["votes"], 2);
    // A vote is the idea's like: the reactions say so too.
    let r = alice.get("/communities/labo/posts").await;
    let like = r.json["items"][0]["reactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "like")
        .unwrap()
        .clone();
    assert_eq!(like["count"], 2);

    // A second idea, with fewer votes but newer.
    let other = submit(&alice, "Car-pooling between the sites", "").await;
    let r = alice.get("/ideas?community=labo").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let order: Vec<i64> = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(order, [id, other]);
    let r = alice.get("/ideas?community=labo&order=recent").await;
    assert_eq!(r.json["items"][0]["id"], other);
    assert_eq!(r.json["counts"]["new"], 2);

    // Only moderators move an idea; declining needs a reason.
    let r = put(
        &bob,
        &format!("/ideas/{id}/status"),
        json!({"status": "accepted"}),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_moderators_only")
    );
    let r = put(
        &alice,
        &format!("/ideas/{other}/status"),
        json!({"status": "declined"}),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "idea_reason_required")
    );
    let r = put(
        &alice,
        &format!("/ideas/{id}/status"),
        json!({"status": "maybe"}),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "idea_status_unknown")
    );
    assert_eq!(bob.get(&format!("/ideas/{id}")).await.json["status"], "new");
    let r = put(
        &alice,
        &format!("/ideas/{id}/status"),
        json!({"status": "under_review", "reason": "We ask the facilities team."}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["status"], "under_review");
    // Its author and those who voted are told; the moderator who moved
    // it is told too, having voted, but not anyone else.
    assert_eq!(
        told(&bob.get("/notifications").await.json, "idea_status", id),
        1
    );
    assert_eq!(
        told(&alice.get("/notifications").await.json, "idea_status", id),
        1
    );
    assert_eq!(
        told(&carol.get("/notifications").await.json, "idea_status", id),
        0
    );
    // Under review, votes are still taken; once accepted, they are not.
    let r = alice.delete(&format!("/ideas/{id}/vote")).await;
    assert_eq!(r.json["votes"], 1);
    let r = put(
        &alice,
        &format!("/ideas/{id}/status"),
        json!({"status": "accepted"}),
    )
    .await;
    assert_eq!(r.json["status"], "accepted");
    assert_eq!(r.json["may_vote"], false);
    assert_eq!(r.json["reason"], "");
    let r = put(&alice, &format!("/ideas/{id}/vote"), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "idea_decided"));
    let r = bob.delete(&format!("/ideas/{id}/vote")).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "idea_decided"));
    // The like door says the same.
    let r = alice.put(&format!("/posts/{id}/reactions/like")).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "idea_decided"));
    assert_eq!(bob.get(&format!("/ideas/{id}")).await.json["votes"], 1);
    assert_eq!(
        told(&bob.get("/notifications").await.json, "idea_status", id),
        2
    );
    let r = put(
        &alice,
        &format!("/ideas/{other}/status"),
        json!({"status": "declined", "reason": "Already done by HR."}),
    )
    .await;
    assert_eq!(r.json["reason"], "Already done by HR.");
    // Lists by status; the moves are in the moderation log.
    let r = carol.get("/ideas?community=labo&status=accepted").await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.json["items"][0]["id"], id);
    assert_eq!(
        (
            r.json["counts"]["accepted"].as_i64(),
            r.json["counts"]["declined"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let r = carol.get("/ideas").await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 2);
    let log = alice.get("/communities/labo/log").await;
    let moves = log.json.to_string().matches("idea_status").count();
    assert_eq!(moves, 3, "{}", log.json);
    // Its author edits its title and text (which may be empty); nobody
    // else does, and a post has no title to edit.
    let r = alice
        .patch(
            &format!("/posts/{other}"),
            json!({"body": "", "title": "Car-pooling between all sites"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["idea"]["title"], "Car-pooling between all sites");
    let r = bob
        .patch(
            &format!("/posts/{other}"),
            json!({"body": "x", "title": "Mine now"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "not_author"));
    let r = alice
        .patch(
            &format!("/posts/{other}"),
            json!({"body": "x", "title": ""}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "title_required")
    );
    let plain = alice.post_text("Plain words").await;
    let r = alice
        .patch(
            &format!("/posts/{plain}"),
            json!({"body": "x", "title": "Titled"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "title_untitled")
    );
    assert_eq!(
        carol.get(&format!("/ideas/{other}")).await.json["title"],
        "Car-pooling between all sites"
    );
    // Search finds an idea by its title.
    let r = carol.get("/search?q=car-pooling").await;
    assert!(
        r.json.to_string().contains(&format!("\"id\":{other}")),
        "{}",
        r.json
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ideas_and_votes_are_refused_and_nothing_is_stored() {
    let app = TestApp::start().await;
    let (alice, bob) = labo(&app).await;
    let before = (app.count("content"), app.count("ideas"));
    let cases = [
        (
            json!({"community": "labo", "title": "   "}),
            StatusCode::BAD_REQUEST,
            "title_required",
        ),
        (
            json!({"community": "labo", "title": "x".repeat(151)}),
            StatusCode::BAD_REQUEST,
            "title_too_long",
        ),
        (
            json!({"community": "labo", "title": "Idea", "body": "y".repeat(20_000)}),
            StatusCode::BAD_REQUEST,
            "post_too_long",
        ),
        (
            json!({"community": "nowhere", "title": "Idea"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            json!({"title": "Idea"}),
            StatusCode::BAD_REQUEST,
            "field_missing",
        ),
    ];
    for (body, status, code) in cases {
        let r = alice.post("/ideas", body.clone()).await;
        assert_eq!((r.status, r.code()), (status, code), "{body} {}", r.json);
    }
    // Someone who is not a member submits nothing.
    let eve = app.user("eve").await;
    let r = eve
        .post("/ideas", json!({"community": "labo", "title": "Mine"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_members_only")
    );
    assert_eq!((app.count("content"), app.count("ideas")), before);

    // A post is not an idea: no vote, no status.
    let post = alice
        .post("/communities/labo/posts", json!({"body": "Plain post"}))
        .await
        .json["id"]
        .as_i64()
        .unwrap();
    let r = put(&bob, &format!("/ideas/{post}/vote"), json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = put(
        &alice,
        &format!("/ideas/{post}/status"),
        json!({"status": "done"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A deleted idea takes no vote and no move.
    let id = submit(&bob, "Gone soon", "").await;
    let r = bob.delete(&format!("/posts/{id}")).await;
    assert!(r.status.is_success(), "{}", r.json);
    let r = put(&alice, &format!("/ideas/{id}/vote"), json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = put(
        &alice,
        &format!("/ideas/{id}/status"),
        json!({"status": "done"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("reactions"), 0);
    let r = alice.get("/ideas?community=labo").await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 0);
    let r = alice.get("/ideas?order=sideways").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "idea_order_unknown")
    );
    // A reason too long is refused, and the idea stays where it was.
    let id = submit(&bob, "Stays new", "").await;
    let r = put(
        &alice,
        &format!("/ideas/{id}/status"),
        json!({"status": "declined", "reason": "z".repeat(501)}),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "idea_reason_too_long")
    );
    assert_eq!(bob.get(&format!("/ideas/{id}")).await.json["status"], "new");

    // Switched off for the community, ideas are neither submitted nor
    // voted for; those already written stay readable.
    let r = put(
        &alice,
        "/communities/labo/apps/ideas",
        json!({"enabled": false}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = bob
        .post("/ideas", json!({"community": "labo", "title": "Later"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "app_disabled")
    );
    let r = put(&bob, &format!("/ideas/{id}/vote"), json!({})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "app_disabled")
    );
    let r = bob.get(&format!("/ideas/{id}")).await;
    assert_eq!(
        (r.status, r.json["may_vote"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    assert_eq!(app.count("reactions"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ideas_are_submitted_voted_for_and_moved_from_the_pages() {
    let app = TestApp::start().await;
    let alice_api = app.user("alice").await;
    let bob_api = app.user("bob").await;
    let r = alice_api
        .post(
            "/communities",
            json!({"name": "atelier", "title": "Atelier"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let r = bob_api.post("/communities/atelier/join", json!({})).await;
    assert!(r.status.is_success(), "{}", r.json);
    let alice = app.browser_login("alice").await;
    let bob = app.browser_login("bob").await;
    // The community offers ideas: a button and a list.
    let html = bob.html("/communities/atelier").await;
    assert!(html.contains("/ideas/new?community=atelier"), "{html}");
    assert!(html.contains("/communities/atelier/ideas"), "{html}");
    // Without a community, the form offers those one may submit to.
    let html = bob.html("/ideas/new").await;
    assert!(
        html.contains("<option value=\"atelier\">Atelier</option>"),
        "{html}"
    );
    // A refused idea comes back with what was written.
    let csrf = bob.csrf("/ideas/new?community=atelier").await;
    let r = bob
        .post_form(
            "/ideas/new",
            &[
                ("csrf", &csrf),
                ("community", "atelier"),
                ("title", " "),
                ("body", "Des casiers pour les vélos"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("Give it a title."), "{html}");
    assert!(html.contains("Des casiers pour les vélos"), "{html}");
    assert!(
        html.contains("<option value=\"atelier\" selected>"),
        "{html}"
    );
    let r = bob
        .post_form(
            "/ideas/new",
            &[
                ("csrf", &csrf),
                ("community", "atelier"),
                ("title", "Bike lockers"),
                ("body", "Des casiers pour les vélos"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let post = location(&r);
    let id: i64 = post.trim_start_matches("/posts/").parse().unwrap();
    // Alice votes from the list, then moves it from the post.
    let html = alice.html("/communities/atelier/ideas").await;
    assert!(html.contains("Bike lockers"), "{html}");
    assert!(
        html.contains(&format!("action=\"/ideas/{id}/vote\"")),
        "{html}"
    );
    let csrf = alice.csrf("/communities/atelier/ideas").await;
    let r = alice
        .post_form(
            &format!("/ideas/{id}/vote"),
            &[("csrf", &csrf), ("on", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = alice.html(&post).await;
    assert!(html.contains("1 vote"), "{html}");
    assert!(
        html.contains(&format!("action=\"/ideas/{id}/status\"")),
        "{html}"
    );
    let r = alice
        .post_form(
            &format!("/ideas/{id}/status"),
            &[("csrf", &csrf), ("status", "declined"), ("reason", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = alice
        .post_form(
            &format!("/ideas/{id}/status"),
            &[
                ("csrf", &csrf),
                ("status", "done"),
                ("reason", "Installed in May"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Bob, its author, reads where it stands, in French too.
    let html = bob.html(&post).await;
    assert!(html.contains("Done"), "{html}");
    assert!(html.contains("Installed in May"));
    assert!(!html.contains(&format!("action=\"/ideas/{id}/status\"")));
    let r = bob
        .get_lang("/communities/atelier/ideas?status=done", "fr")
        .await;
    let html = r.text().await.unwrap();
    assert!(html.contains("Réalisée"), "{html}");
    assert!(html.contains("Bike lockers"));
    let html = bob.html("/notifications").await;
    assert!(html.contains("changed the status of an idea"), "{html}");
}
