//! Polls across sites and with Mastodon: a poll is a `Question`; a vote is
//! the `Note` with the answer's name that Mastodon sends, to the poll's
//! author only; the poll's site counts and publishes the new counts as an
//! `Update` of it, which every site showing it takes.

use federation_tests::{
    ask_to_join, eventually, follow, mastodon_follows, network, trusting_network, Api,
    ForeignServer, Instance,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The id of the only poll on `i` whose text has `text`.
async fn poll_on(i: &Instance, text: &str) -> i64 {
    let q = format!("SELECT COUNT(*) FROM content WHERE kind = 'poll' AND body LIKE '%{text}%'");
    eventually(15, &format!("the poll \"{text}\" on {}", i.base), || {
        let n = i.count(&q);
        async move { (n == 1).then_some(()) }
    })
    .await;
    i.count(&format!(
        "SELECT id FROM content WHERE kind = 'poll' AND body LIKE '%{text}%'"
    ))
}

async fn view(api: &Api, id: i64) -> Value {
    let (s, v) = api.get(&format!("/api/v1/polls/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

fn option_id(v: &Value, name: &str) -> i64 {
    v["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {v}"))["id"]
        .as_i64()
        .unwrap()
}

fn votes(v: &Value) -> Vec<Option<i64>> {
    v["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["votes"].as_i64())
        .collect()
}

/// Waits until `api` sees poll `id` with these votes.
async fn wait_votes(api: &Api, id: i64, want: &[i64], what: &str) -> Value {
    let want: Vec<Option<i64>> = want.iter().map(|n| Some(*n)).collect();
    eventually(15, what, || async {
        let v = view(api, id).await;
        (votes(&v) == want).then_some(v)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_is_voted_from_other_sites_and_counted_everywhere() {
    let [alpha, beta, gamma] = trusting_network().await;
    let ann = alpha.user("ann").await;
    let bea = beta.user("bea").await;
    let gil = gamma.user("gil").await;
    follow(&bea, &beta, &format!("@{}", alpha.handle("ann"))).await;
    follow(&gil, &gamma, &format!("@{}", alpha.handle("ann"))).await;

    let (s, p) = ann
        .post(
            "/api/v1/polls",
            json!({"body": "Which shift for the inventory?", "options": ["Morning", "Afternoon", "Night"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let here = p["id"].as_i64().unwrap();
    let on_beta = poll_on(&beta, "inventory").await;
    let on_gamma = poll_on(&gamma, "inventory").await;
    // beta shows the answers, and no results before bea votes.
    let v = view(&bea, on_beta).await;
    assert_eq!(v["remote"], true);
    assert_eq!(v["shown"], false);
    assert_eq!(v["may_vote"], true);
    assert!(v["closes_at"].is_string(), "{v}");

    // bea votes on beta: alpha counts it, and beta shows alpha's count.
    let (s, r) = bea
        .post(
            &format!("/api/v1/polls/{on_beta}/votes"),
            json!({"choices": [option_id(&v, "Afternoon")]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    wait_votes(&ann, here, &[0, 1, 0], "alpha to count bea's vote").await;
    wait_votes(&bea, on_beta, &[0, 1, 0], "beta to show alpha's count").await;
    // A second vote is refused on beta; nothing more reaches alpha.
    let (s, r) = bea
        .post(
            &format!("/api/v1/polls/{on_beta}/votes"),
            json!({"choices": [option_id(&v, "Night")]}),
        )
        .await;
    assert_eq!(
        (s, r["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("poll_voted"))
    );

    // gil votes on gamma; both other sites show two voters.
    let g = view(&gil, on_gamma).await;
    let (s, r) = gil
        .post(
            &format!("/api/v1/polls/{on_gamma}/votes"),
            json!({"choices": [option_id(&g, "Morning")]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let v = wait_votes(&bea, on_beta, &[1, 1, 0], "beta to show gil's vote").await;
    assert_eq!(v["voters"], 2);
    let v = wait_votes(&gil, on_gamma, &[1, 1, 0], "gamma to show both votes").await;
    assert_eq!(v["voters"], 2);
    assert_eq!(v["options"][0]["mine"], true);
    assert_eq!(
        alpha.count("SELECT COUNT(*) FROM poll_votes v JOIN users u ON u.id = v.user_id WHERE u.domain IS NOT NULL"),
        2
    );

    // A poll whose results wait for its close: beta shows none after
    // bea's vote, then the counts once the date has passed.
    let (s, p) = ann
        .post(
            "/api/v1/polls",
            json!({"body": "Secret ballot: new canteen supplier?", "options": ["Keep", "Change"], "results": "closed"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let ballot = p["id"].as_i64().unwrap();
    let ballot_beta = poll_on(&beta, "canteen supplier").await;
    let b = view(&bea, ballot_beta).await;
    let (s, r) = bea
        .post(
            &format!("/api/v1/polls/{ballot_beta}/votes"),
            json!({"choices": [option_id(&b, "Change")]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["shown"], false, "{r}");
    wait_votes(&ann, ballot, &[0, 1], "alpha to count the ballot").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let b = view(&bea, ballot_beta).await;
    assert_eq!(votes(&b), [None, None], "{b}");
    assert_eq!(
        beta.count(&format!(
            "SELECT COALESCE(SUM(votes), 0) FROM poll_options WHERE content_id = {ballot_beta}"
        )),
        0,
        "the counts did not leave alpha before the close"
    );
    alpha.exec(&format!(
        "UPDATE polls SET closes_at = '2020-01-01 00:00:00' WHERE content_id = {ballot}"
    ));
    let b = eventually(
        45,
        "beta to show the ballot's result once closed",
        || async {
            let v = view(&bea, ballot_beta).await;
            (votes(&v) == [Some(0), Some(1)]).then_some(v)
        },
    )
    .await;
    assert_eq!(b["closed"], true);

    // ann closes it: the other sites show it closed, and take no vote.
    let (s, _) = ann
        .post(&format!("/api/v1/polls/{here}/close"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    eventually(15, "beta to show the poll closed", || async {
        (view(&bea, on_beta).await["closed"] == true).then_some(())
    })
    .await;
    // bea, who voted from beta, is told there that the results are in.
    let (_, n) = bea.get("/api/v1/notifications").await;
    assert!(
        n["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "poll_closed" && i["content_id"] == on_beta),
        "{n}"
    );
    let carl = gamma.user("carl").await;
    follow(&carl, &gamma, &format!("@{}", alpha.handle("ann"))).await;
    let (s, r) = carl
        .post(
            &format!("/api/v1/polls/{on_gamma}/votes"),
            json!({"choices": [option_id(&g, "Night")]}),
        )
        .await;
    eventually(15, "gamma to show it closed", || async {
        (view(&gil, on_gamma).await["closed"] == true).then_some(())
    })
    .await;
    // Whether gamma knew it closed or not, alpha did not count it.
    assert!(s == StatusCode::CONFLICT || s == StatusCode::OK, "{r}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(votes(&view(&ann, here).await), [Some(1), Some(1), Some(0)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_of_a_community_is_voted_by_members_of_other_sites() {
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
    for (i, q) in [
        (&alpha, "SELECT COUNT(*) FROM community_members m JOIN users u ON u.id = m.user_id WHERE u.username LIKE 'bea@%' AND m.status = 'member'"),
        (&beta, "SELECT COUNT(*) FROM community_members m JOIN users u ON u.id = m.user_id WHERE u.username = 'bea' AND m.status = 'member'"),
    ] {
        eventually(15, "bea to be a member", || {
            let n = i.count(q);
            async move { (n == 1).then_some(()) }
        })
        .await;
    }
    let (s, p) = ann
        .post(
            "/api/v1/polls",
            json!({"body": "New safety shoes: which model?", "options": ["Light", "Strong"], "community": "atelier", "multiple": true}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let here = p["id"].as_i64().unwrap();
    let on_beta = poll_on(&beta, "safety shoes").await;
    let v = view(&bea, on_beta).await;
    assert_eq!(v["multiple"], true);
    let (s, r) = bea
        .post(
            &format!("/api/v1/polls/{on_beta}/votes"),
            json!({"choices": [option_id(&v, "Light"), option_id(&v, "Strong")]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let v = wait_votes(&ann, here, &[1, 1], "alpha to count both answers").await;
    assert_eq!(v["voters"], 1);
    let v = wait_votes(
        &bea,
        on_beta,
        &[1, 1],
        "beta to show the community's counts",
    )
    .await;
    assert_eq!(v["voters"], 1);

    // bea asks in alpha's community from beta: ann votes on alpha, whose
    // members beta does not know; beta counts it, and alpha shows it.
    let (s, p) = bea
        .post(
            "/api/v1/polls",
            json!({"body": "Gloves: which size to order?", "options": ["M", "L"], "community": alpha.handle("atelier")}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let asked = p["id"].as_i64().unwrap();
    let on_alpha = poll_on(&alpha, "Gloves").await;
    let v = view(&ann, on_alpha).await;
    assert_eq!(v["may_vote"], true, "{v}");
    let (s, r) = ann
        .post(
            &format!("/api/v1/polls/{on_alpha}/votes"),
            json!({"choices": [option_id(&v, "L")]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    wait_votes(&bea, asked, &[0, 1], "beta to count ann's vote").await;
    wait_votes(&ann, on_alpha, &[0, 1], "alpha to show beta's count").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_votes_in_ruche_polls_and_ruche_in_mastodon_polls() {
    let [mut alpha, mut beta, gamma] = network();
    let foreign = ForeignServer::start().await;
    alpha.trust(&foreign.authority(), "partner");
    beta.trust(&foreign.authority(), "partner");
    alpha.start().await;
    beta.start().await;
    drop(gamma);
    let ann = alpha.user("ann").await;
    let bob = beta.user("bob").await;
    let ann_url = format!("{}/people/ann", alpha.base);
    let alice = format!("{}/users/alice", foreign.base);

    // Mastodon's alice follows ann, then votes in her poll as Mastodon does.
    mastodon_follows(&foreign, &alpha, "ann").await;
    let (s, p) = ann
        .post(
            "/api/v1/polls",
            json!({"body": "Canteen: more vegetarian dishes?", "options": ["Yes", "No"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let here = p["id"].as_i64().unwrap();
    let poll_url = format!("{}/posts/{here}", alpha.base);
    // Mastodon receives a Question it shows as a poll.
    let create = eventually(10, "the Question at Mastodon", || async {
        foreign
            .received()
            .into_iter()
            .find(|(_, _, v)| v["type"] == "Create" && v["object"]["type"] == "Question")
    })
    .await
    .2;
    let q = &create["object"];
    assert_eq!(q["id"], poll_url.as_str());
    assert_eq!(q["oneOf"][0]["name"], "Yes", "{q}");
    assert_eq!(q["oneOf"][1]["replies"]["totalItems"], 0);
    assert!(q["anyOf"].is_null());
    assert!(q["endTime"].is_string());
    assert_eq!(q["votersCount"], 0);

    let vote = |n: u32, answer: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{alice}#votes/{n}/activity"),
            "type": "Create",
            "actor": alice,
            "to": ann_url,
            "object": {
                "id": format!("{alice}#votes/{n}"),
                "type": "Note",
                "name": answer,
                "attributedTo": alice,
                "inReplyTo": poll_url,
                "to": ann_url
            }
        })
    };
    let inbox = format!("{}/people/ann/inbox", alpha.base);
    // An answer that is not one of the poll's is refused, nothing counted.
    let (s, b) = foreign.send_value(&inbox, &vote(1, "Maybe")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    let (s, b) = foreign.send_value(&inbox, &vote(2, "Yes")).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let v = wait_votes(&ann, here, &[1, 0], "alpha to count alice's vote").await;
    assert_eq!(v["voters"], 1);
    // A second answer in a poll of one answer is refused.
    let (s, b) = foreign.send_value(&inbox, &vote(3, "No")).await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    // Mastodon hears of the new counts.
    eventually(10, "the new counts at Mastodon", || async {
        foreign.received().into_iter().find(|(_, _, v)| {
            v["type"] == "Update"
                && v["object"]["type"] == "Question"
                && v["object"]["oneOf"][0]["replies"]["totalItems"] == 1
                && v["object"]["votersCount"] == 1
        })
    })
    .await;
    assert_eq!(votes(&view(&ann, here).await), [Some(1), Some(0)]);

    // A poll of this site only takes no vote from elsewhere, even from
    // someone who guesses its address and an answer.
    let (s, p) = ann
        .post(
            "/api/v1/polls",
            json!({"body": "Parking: new rules?", "options": ["Yes", "No"], "visibility": "instance"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let private = p["id"].as_i64().unwrap();
    let guess = |n: u32| {
        let mut v = vote(n, "Yes");
        v["object"]["inReplyTo"] = json!(format!("{}/posts/{private}", alpha.base));
        v
    };
    let (s, b) = foreign.send_value(&inbox, &guess(4)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    assert_eq!(votes(&view(&ann, private).await), [Some(0), Some(0)]);

    // A poll of several answers: Pleroma's Answer and Mastodon's Note
    // sent together count as one voter; an answer added later, once the
    // results could be seen, is refused.
    let (s, p) = ann
        .post(
            "/api/v1/polls",
            json!({"body": "Which trainings?", "options": ["First aid", "Forklift", "Fire"], "multiple": true}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let several = p["id"].as_i64().unwrap();
    let several_url = format!("{}/posts/{several}", alpha.base);
    let choose = |n: u32, answer: &str, kind: &str| {
        let mut v = vote(n, answer);
        v["object"]["inReplyTo"] = json!(several_url);
        v["object"]["type"] = json!(kind);
        v
    };
    let (s, b) = foreign
        .send_value(&inbox, &choose(5, "First aid", "Answer"))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let (s, b) = foreign.send_value(&inbox, &choose(6, "Fire", "Note")).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let v = wait_votes(&ann, several, &[1, 0, 1], "alpha to count both answers").await;
    assert_eq!(v["voters"], 1);
    alpha.exec(&format!(
        "UPDATE poll_votes SET created_at = '2020-01-01 00:00:00' WHERE content_id = {several}"
    ));
    let (s, b) = foreign
        .send_value(&inbox, &choose(7, "Forklift", "Note"))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(
        votes(&view(&ann, several).await),
        [Some(1), Some(0), Some(1)]
    );

    // A Mastodon poll that mentions bob reaches beta as a poll.
    let bob_url = format!("{}/people/bob", beta.base);
    let (s, b) = foreign
        .send(
            &format!("{}/inbox", beta.base),
            "mastodon_create_question.json",
            &format!("{alice}#main-key"),
            &bob_url,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let there = poll_on(&beta, "inventory").await;
    // Found here by its answers too.
    let (_, found) = bob.get("/api/v1/search?q=afternoon").await;
    assert_eq!(found["content"][0]["id"], there, "{found}");
    let v = view(&bob, there).await;
    assert_eq!(v["remote"], true);
    assert_eq!(v["multiple"], false);
    assert_eq!(v["shown"], false);
    // bob votes: Mastodon receives the Note with the answer's name, for
    // alice only.
    let (s, r) = bob
        .post(
            &format!("/api/v1/polls/{there}/votes"),
            json!({"choices": [option_id(&v, "Night")]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    // Counted there, not here: beta shows Mastodon's counts until it says more.
    assert_eq!(votes(&r), [Some(2), Some(1), Some(0)]);
    assert_eq!(r["options"][2]["mine"], true);
    let sent = eventually(10, "bob's vote at Mastodon", || async {
        foreign
            .received()
            .into_iter()
            .find(|(_, _, v)| v["type"] == "Create" && v["object"]["name"] == "Night")
    })
    .await;
    let (path, _, a) = sent;
    assert_eq!(path, "/users/alice/inbox");
    let o = &a["object"];
    assert_eq!(o["type"], "Note");
    assert_eq!(
        o["inReplyTo"],
        format!("{}/users/alice/statuses/113", foreign.base)
    );
    assert_eq!(o["attributedTo"], bob_url.as_str());
    assert_eq!(o["to"], json!([alice]));
    assert!(o["content"].is_null());
    // Mastodon publishes the new counts; beta takes them.
    let (s, b) = foreign
        .send(
            &format!("{}/inbox", beta.base),
            "mastodon_update_question.json",
            &format!("{alice}#main-key"),
            &bob_url,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let v = wait_votes(&bob, there, &[2, 1, 1], "beta to take Mastodon's counts").await;
    assert_eq!(v["voters"], 4);
    // Counts are not an edit of the text.
    assert_eq!(
        beta.count(&format!(
            "SELECT COUNT(*) FROM content_revisions WHERE content_id = {there}"
        )),
        0
    );
}

/// Votes that keep coming do not make one `Update` per vote for every
/// follower's server: the counts leave at most once a second while they
/// come, and the last counts still leave soon after the last vote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn votes_that_keep_coming_make_an_update_a_second_and_the_last_counts_leave() {
    let [mut alpha, _beta, _gamma] = network();
    let foreign = ForeignServer::start().await;
    alpha.trust(&foreign.authority(), "partner");
    alpha.start().await;
    let ann = alpha.user("ann").await;
    mastodon_follows(&foreign, &alpha, "ann").await;
    let mut voters = Vec::new();
    for i in 0..24 {
        voters.push(alpha.user(&format!("voter{i:02}")).await);
    }
    let (s, p) = ann
        .post(
            "/api/v1/polls",
            json!({"body": "Badge colour for visitors?", "options": ["Red", "Blue"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let id = p["id"].as_i64().unwrap();
    let red = p["poll"]["options"][0]["id"].as_i64().unwrap();
    eventually(10, "the Question at Mastodon", || async {
        (foreign.count_type("Create") > 0).then_some(())
    })
    .await;
    // One vote every 100 ms for 2.4 s.
    let started = std::time::Instant::now();
    for v in &voters {
        let (s, b) = v
            .post(
                &format!("/api/v1/polls/{id}/votes"),
                json!({"choices": [red]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let voting = started.elapsed().as_secs_f64();
    let updates = || -> Vec<Value> {
        foreign
            .received()
            .into_iter()
            .filter(|(_, _, v)| v["type"] == "Update" && v["object"]["type"] == "Question")
            .map(|(_, _, v)| v)
            .collect()
    };
    eventually(10, "the last counts at Mastodon", || async {
        updates()
            .iter()
            .any(|u| u["object"]["votersCount"] == 24)
            .then_some(())
    })
    .await;
    // Wait a little more: nothing was only held back.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let sent = updates();
    let counts: Vec<i64> = sent
        .iter()
        .map(|u| u["object"]["votersCount"].as_i64().unwrap_or(-1))
        .collect();
    // The first vote leaves at once; then one Update a second at most, and
    // the last one.
    let most = voting.ceil() as usize + 2;
    assert!(
        (2..=most).contains(&sent.len()),
        "{} Updates for 24 votes in {voting:.1} s: {counts:?}",
        sent.len()
    );
    assert_eq!(counts.last(), Some(&24), "{counts:?}");
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
}
