//! Ideas across sites: an idea is a community's titled `Page` with
//! `ruche:ideaStatus`; a vote is its `Like` (a Lemmy upvote counts too);
//! only the community's host moves it, with an `Update` sent by the
//! community, which every member site takes and tells its voters.

use federation_tests::{
    ask_to_join, eventually, network, wait_count, Api, ForeignServer, Instance,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The local id of the only idea titled `title` on `i`.
async fn idea_on(i: &Instance, title: &str) -> i64 {
    let q = format!(
        "SELECT COUNT(*) FROM content c JOIN ideas d ON d.content_id = c.id WHERE c.kind = 'idea' AND d.title = '{title}'"
    );
    wait_count(i, &q, 1, &format!("the idea \"{title}\" on {}", i.base)).await;
    i.count(&format!(
        "SELECT c.id FROM content c JOIN ideas d ON d.content_id = c.id WHERE d.title = '{title}'"
    ))
}

async fn view(api: &Api, id: i64) -> Value {
    let (s, v) = api.get(&format!("/api/v1/ideas/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

/// Waits until `api` sees idea `id` with `field` equal to `want`.
async fn wait_field(api: &Api, id: i64, field: &str, want: Value, what: &str) -> Value {
    eventually(15, what, || async {
        let v = view(api, id).await;
        (v[field] == want).then_some(v)
    })
    .await
}

async fn put(api: &Api, path: &str, body: Value) -> (StatusCode, Value) {
    api.call(Method::PUT, path, Some(body)).await
}

fn told(v: &Value, id: i64) -> usize {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "idea_status" && i["content_id"] == id)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idea_is_voted_for_and_moved_across_sites_and_read_by_lemmy() {
    let [mut alpha, mut beta, gamma] = network();
    let lemmy = ForeignServer::start().await;
    for i in [&alpha, &beta] {
        i.trust(&lemmy.authority(), "member");
    }
    alpha.trust("beta.test", "member");
    beta.trust("alpha.test", "member");
    alpha.start().await;
    beta.start().await;
    drop(gamma);
    let ann = alpha.user("ann").await;
    let bea = beta.user("bea").await;
    let (s, v) = ann
        .post(
            "/api/v1/communities",
            json!({"name": "atelier", "title": "Atelier"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    ask_to_join(&bea, &alpha, "atelier").await;
    wait_count(
        &beta,
        "SELECT COUNT(*) FROM community_members m JOIN users u ON u.id = m.user_id WHERE u.username = 'bea' AND m.status = 'member'",
        1,
        "bea to be a member",
    )
    .await;
    // A Lemmy user follows the community.
    let group = format!("{}/communities/atelier", alpha.base);
    let inbox = format!("{group}/inbox");
    let carol = format!("{}/u/carol", lemmy.base);
    let key_id = format!("{carol}#main-key");
    let (s, b) = lemmy
        .send(&inbox, "lemmy_follow.json", &key_id, &group)
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");

    let (s, p) = ann
        .post(
            "/api/v1/ideas",
            json!({"community": "atelier", "title": "Bike lockers", "body": "Near the **north** gate."}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let here = p["id"].as_i64().unwrap();
    let idea_url = format!("{}/posts/{here}", alpha.base);
    // Lemmy reads it as a titled Page: its title, its text, its address.
    let announce = eventually(10, "the idea at Lemmy", || async {
        lemmy.received().into_iter().find(|(_, _, v)| {
            v["type"] == "Announce" && v["object"]["object"]["id"] == idea_url.as_str()
        })
    })
    .await
    .2;
    let page = &announce["object"]["object"];
    assert_eq!(page["type"], "Page", "{page}");
    assert_eq!(page["name"], "Bike lockers");
    assert!(
        page["content"]
            .as_str()
            .unwrap()
            .contains("<strong>north</strong>"),
        "{page}"
    );
    assert_eq!(page["ruche:ideaStatus"], "new");
    // beta keeps it as an idea, its title apart from its text.
    let on_beta = idea_on(&beta, "Bike lockers").await;
    let v = view(&bea, on_beta).await;
    assert_eq!(
        (v["status"].as_str(), v["may_vote"].as_bool()),
        (Some("new"), Some(true)),
        "{v}"
    );
    let body = beta.texts(&format!(
        "SELECT body AS t FROM content WHERE id = {on_beta}"
    ));
    assert_eq!(body[0].trim(), "Near the north gate.");

    // bea votes on beta, carol upvotes from Lemmy: alpha counts both.
    let (s, v) = put(&bea, &format!("/api/v1/ideas/{on_beta}/vote"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let like = |n: u32| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/activities/like/{n}", lemmy.base),
            "type": "Like",
            "actor": carol,
            "object": idea_url,
            "audience": group
        })
    };
    let (s, b) = lemmy.send_as(&inbox, &key_id, &like(1)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    wait_field(&ann, here, "votes", json!(2), "alpha to count both votes").await;

    // ann accepts it: beta shows where it stands and tells bea, who voted.
    let (s, v) = put(
        &ann,
        &format!("/api/v1/ideas/{here}/status"),
        json!({"status": "accepted", "reason": "Budget approved"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let v = wait_field(
        &bea,
        on_beta,
        "status",
        json!("accepted"),
        "beta to take the move",
    )
    .await;
    assert_eq!(v["reason"], "Budget approved");
    assert_eq!(v["may_vote"], false);
    eventually(10, "bea to be told", || async {
        let (_, n) = bea.get("/api/v1/notifications").await;
        (told(&n, on_beta) == 1).then_some(())
    })
    .await;
    // Decided, it takes no vote, from beta or from Lemmy.
    let (s, v) = bea
        .call(
            Method::DELETE,
            &format!("/api/v1/ideas/{on_beta}/vote"),
            None,
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("idea_decided"))
    );
    let undo = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/undo/1", lemmy.base),
        "type": "Undo",
        "actor": carol,
        "object": like(1),
        "audience": group
    });
    let (s, b) = lemmy.send_as(&inbox, &key_id, &undo).await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(view(&ann, here).await["votes"], 2);

    // bea submits an idea from beta: alpha keeps it as new; ann moves it,
    // and beta, bea's own site, takes the community's word.
    let (s, p) = bea
        .post(
            "/api/v1/ideas",
            json!({"community": alpha.handle("atelier"), "title": "Shared printers", "body": ""}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let beas = p["id"].as_i64().unwrap();
    let on_alpha = idea_on(&alpha, "Shared printers").await;
    assert_eq!(view(&ann, on_alpha).await["status"], "new");
    let (s, v) = put(
        &ann,
        &format!("/api/v1/ideas/{on_alpha}/status"),
        json!({"status": "declined", "reason": "Printers are leased per site"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let v = wait_field(
        &bea,
        beas,
        "status",
        json!("declined"),
        "beta to take the decline",
    )
    .await;
    assert_eq!(v["reason"], "Printers are leased per site");
    eventually(10, "bea to be told of her idea", || async {
        let (_, n) = bea.get("/api/v1/notifications").await;
        (told(&n, beas) == 1).then_some(())
    })
    .await;
    // bea gives it a new title: alpha takes it, not where it stands.
    let (s, v) = bea
        .call(
            Method::PATCH,
            &format!("/api/v1/posts/{beas}"),
            Some(json!({"body": "", "title": "Shared printers per floor"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let v = wait_field(
        &ann,
        on_alpha,
        "title",
        json!("Shared printers per floor"),
        "alpha to take bea's new title",
    )
    .await;
    assert_eq!(v["status"], "declined");
    // Only the community's site moves an idea.
    let (s, v) = put(
        &bea,
        &format!("/api/v1/ideas/{beas}/status"),
        json!({"status": "done"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idea_sent_to_a_community_starts_new_whatever_its_site_says() {
    let [mut alpha, mut beta, gamma] = network();
    let lemmy = ForeignServer::start().await;
    for i in [&alpha, &beta] {
        i.trust(&lemmy.authority(), "member");
    }
    alpha.trust("beta.test", "member");
    beta.trust("alpha.test", "member");
    alpha.start().await;
    beta.start().await;
    drop(gamma);
    let ann = alpha.user("ann").await;
    let bea = beta.user("bea").await;
    let (s, v) = ann
        .post(
            "/api/v1/communities",
            json!({"name": "atelier", "title": "Atelier"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    ask_to_join(&bea, &alpha, "atelier").await;
    let group = format!("{}/communities/atelier", alpha.base);
    let inbox = format!("{group}/inbox");
    let carol = format!("{}/u/carol", lemmy.base);
    let key_id = format!("{carol}#main-key");
    let (s, b) = lemmy
        .send(&inbox, "lemmy_follow.json", &key_id, &group)
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    wait_count(
        &beta,
        "SELECT COUNT(*) FROM community_members m JOIN users u ON u.id = m.user_id WHERE u.username = 'bea' AND m.status = 'member'",
        1,
        "bea to be a member",
    )
    .await;
    eventually(10, "Lemmy's follow to be accepted", || {
        let n = lemmy.count_type("Accept");
        async move { (n == 1).then_some(()) }
    })
    .await;
    // A member's site says its idea is already done: the community, not
    // its author, says where an idea stands.
    let page = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/create/9", lemmy.base),
        "type": "Create",
        "actor": carol,
        "to": [group, "https://www.w3.org/ns/activitystreams#Public"],
        "audience": group,
        "object": {
            "id": format!("{}/post/9", lemmy.base),
            "type": "Page",
            "attributedTo": carol,
            "to": [group, "https://www.w3.org/ns/activitystreams#Public"],
            "audience": group,
            "name": "Free lunch",
            "content": "<p>Every day.</p>",
            "ruche:ideaStatus": "done",
            "ruche:ideaReason": "Approved by nobody"
        }
    });
    let (s, b) = lemmy.send_as(&inbox, &key_id, &page).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let on_alpha = idea_on(&alpha, "Free lunch").await;
    let v = view(&ann, on_alpha).await;
    assert_eq!(
        (v["status"].as_str(), v["reason"].as_str()),
        (Some("new"), Some("")),
        "{v}"
    );
    // beta hears of it through the community, and not from its author.
    let on_beta = idea_on(&beta, "Free lunch").await;
    let v = view(&bea, on_beta).await;
    assert_eq!(
        (v["status"].as_str(), v["reason"].as_str()),
        (Some("new"), Some("")),
        "{v}"
    );
    // The author's edit changes its title, not where it stands.
    let mut update = page.clone();
    update["id"] = json!(format!("{}/activities/update/9", lemmy.base));
    update["type"] = json!("Update");
    update["object"]["name"] = json!("Free lunch on Fridays");
    update["object"]["ruche:ideaStatus"] = json!("accepted");
    let (s, b) = lemmy.send_as(&inbox, &key_id, &update).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let v = wait_field(
        &ann,
        on_alpha,
        "title",
        json!("Free lunch on Fridays"),
        "alpha to take the new title",
    )
    .await;
    assert_eq!(v["status"], "new");
}
