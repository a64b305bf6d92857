//! Questions across sites and with Mastodon: a question is a titled post
//! (`name`, `ruche:question`; a Note shows its title above its text for
//! servers that know no questions); answers are its replies; the answer
//! accepted travels as an `Update` of the question naming it
//! (`ruche:acceptedAnswer`), from the asker or, for a moderator's choice,
//! from the community.

use federation_tests::{
    ask_to_join, eventually, follow, mastodon_follows, network, wait_count, Api, ForeignServer,
    Instance,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The local id of the only question titled `title` on `i`.
async fn question_on(i: &Instance, title: &str) -> i64 {
    let q = format!(
        "SELECT COUNT(*) FROM content c JOIN questions q ON q.content_id = c.id WHERE c.kind = 'question' AND q.title = '{title}'"
    );
    wait_count(i, &q, 1, &format!("the question \"{title}\" on {}", i.base)).await;
    i.count(&format!(
        "SELECT c.id FROM content c JOIN questions q ON q.content_id = c.id WHERE q.title = '{title}'"
    ))
}

/// The local id of the content whose body has `text` on `i`, once there.
async fn content_on(i: &Instance, text: &str) -> i64 {
    let q = format!("SELECT COUNT(*) FROM content WHERE body LIKE '%{text}%'");
    wait_count(i, &q, 1, &format!("\"{text}\" on {}", i.base)).await;
    i.count(&format!(
        "SELECT id FROM content WHERE body LIKE '%{text}%'"
    ))
}

async fn view(api: &Api, id: i64) -> Value {
    let (s, v) = api.get(&format!("/api/v1/questions/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn accept(api: &Api, id: i64, answer: i64) -> Value {
    let (s, v) = api
        .call(
            Method::PUT,
            &format!("/api/v1/questions/{id}/accepted"),
            Some(json!({ "answer": answer })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn wait_accepted(api: &Api, id: i64, answer: i64, what: &str) {
    eventually(15, what, || async {
        (view(api, id).await["accepted_id"] == answer).then_some(())
    })
    .await;
}

async fn told(api: &Api, answer: i64) -> bool {
    let (_, n) = api.get("/api/v1/notifications").await;
    n["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["kind"] == "answer_accepted" && i["content_id"] == answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_is_answered_and_its_answer_accepted_across_sites() {
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
    // Mastodon's alice follows ann too.
    mastodon_follows(&foreign, &alpha, "ann").await;

    let (s, p) = ann
        .post(
            "/api/v1/questions",
            json!({"title": "Who renews the forklift licences?", "body": "Mine ends in **March**."}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let here = p["id"].as_i64().unwrap();
    // Mastodon reads a Note with the title above the text.
    let create = eventually(10, "the question at Mastodon", || async {
        foreign
            .received()
            .into_iter()
            .find(|(_, _, v)| v["type"] == "Create" && v["object"]["ruche:question"] == true)
    })
    .await
    .2;
    let note = &create["object"];
    assert_eq!(note["type"], "Note", "{note}");
    assert_eq!(note["name"], "Who renews the forklift licences?");
    let content = note["content"].as_str().unwrap();
    assert!(
        content.starts_with("<p><strong>Who renews the forklift licences?</strong></p>"),
        "{content}"
    );
    assert!(content.contains("<strong>March</strong>"), "{content}");
    // beta keeps the title apart from the text.
    let on_beta = question_on(&beta, "Who renews the forklift licences?").await;
    let body = beta.texts(&format!(
        "SELECT body AS t FROM content WHERE id = {on_beta}"
    ));
    assert_eq!(body[0].trim(), "Mine ends in March.", "{body:?}");
    let html = beta.texts(&format!(
        "SELECT body_html AS t FROM content WHERE id = {on_beta}"
    ));
    assert!(!html[0].contains("forklift licences"), "{html:?}");

    // bea answers from beta; ann accepts it on alpha; beta hears of it and
    // tells bea.
    let (s, a) = bea
        .post(
            &format!("/api/v1/posts/{on_beta}/comments"),
            json!({"body": "The safety office renews them every spring."}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let beas = a["id"].as_i64().unwrap();
    let on_alpha = content_on(&alpha, "safety office renews").await;
    assert_eq!(view(&ann, here).await["answers"], 1);
    let v = accept(&ann, here, on_alpha).await;
    assert_eq!(v["accepted_id"], on_alpha);
    wait_accepted(&bea, on_beta, beas, "beta to take the accepted answer").await;
    eventually(10, "bea to be told", || async {
        told(&bea, beas).await.then_some(())
    })
    .await;
    // Mastodon hears of it as an Update naming the answer.
    eventually(10, "the Update at Mastodon", || async {
        foreign.received().into_iter().find(|(_, _, v)| {
            v["type"] == "Update"
                && v["object"]["ruche:acceptedAnswer"] == format!("{}/posts/{beas}", beta.base)
        })
    })
    .await;
    // bea, who did not ask, cannot accept.
    let (s, _) = bea
        .call(
            Method::PUT,
            &format!("/api/v1/questions/{on_beta}/accepted"),
            Some(json!({"answer": null})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderator_accepts_an_answer_in_a_community_of_another_site() {
    let [mut alpha, mut beta, gamma] = network();
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
    // bea asks in alpha's community from beta; ann answers on alpha and,
    // as its owner, accepts her own answer; beta takes the community's word.
    let (s, p) = bea
        .post(
            "/api/v1/questions",
            json!({"community": alpha.handle("atelier"), "title": "Which gloves for solvents?"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let beas = p["id"].as_i64().unwrap();
    let on_alpha = question_on(&alpha, "Which gloves for solvents?").await;
    let v = view(&ann, on_alpha).await;
    assert_eq!(v["may_accept"], true, "{v}");
    let (s, a) = ann
        .post(
            &format!("/api/v1/posts/{on_alpha}/comments"),
            json!({"body": "Nitrile, the blue box in aisle 3."}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let anns = a["id"].as_i64().unwrap();
    let on_beta = content_on(&beta, "Nitrile, the blue box").await;
    accept(&ann, on_alpha, anns).await;
    wait_accepted(&bea, beas, on_beta, "beta to take the community's choice").await;
}
