//! Surveys and quizzes across sites: a survey travels with its questions
//! (`ruche:survey`); a person of another site answers it there, where a
//! quiz is scored, and the response goes to the survey's author as a
//! `Note` answering it (`ruche:answers`, by position); the survey's site
//! checks it as it checks its own people's and counts it in the results.

use federation_tests::{
    eventually, follow, mastodon_follows, network, trusting_network, Api, ForeignServer, Instance,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The id of the only survey on `i` titled `title`.
async fn survey_on(i: &Instance, title: &str) -> i64 {
    let q = format!("SELECT COUNT(*) FROM surveys WHERE title = '{title}'");
    eventually(15, &format!("the survey \"{title}\" on {}", i.base), || {
        let n = i.count(&q);
        async move { (n == 1).then_some(()) }
    })
    .await;
    i.count(&format!(
        "SELECT content_id FROM surveys WHERE title = '{title}'"
    ))
}

async fn full(api: &Api, id: i64) -> Value {
    let (s, v) = api.get(&format!("/api/v1/surveys/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

/// The question ids of a survey as `api` sees it, with their choices.
fn ids(v: &Value) -> Vec<(i64, Vec<i64>)> {
    v["questions_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["id"].as_i64().unwrap(),
                q["choices"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["id"].as_i64().unwrap())
                    .collect(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiz_and_a_survey_are_answered_from_another_site_and_counted_at_home() {
    let [alpha, beta, gamma] = trusting_network().await;
    drop(gamma);
    let ann = alpha.user("ann").await;
    let bea = beta.user("bea").await;
    follow(&bea, &beta, &format!("@{}", alpha.handle("ann"))).await;

    let (s, p) = ann
        .post(
            "/api/v1/surveys",
            json!({
                "title": "Forklift safety",
                "quiz": true,
                "questions": [
                    {"kind": "one", "prompt": "Top speed indoors?", "choices": ["6 km/h", "20 km/h"], "correct": [0],
                     "explanation": "Walking pace, indoors."},
                    {"kind": "several", "prompt": "Before driving?", "choices": ["Check the brakes", "Phone a friend", "Check the horn"], "correct": [0, 2]}
                ]
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let quiz = p["id"].as_i64().unwrap();
    let on_beta = survey_on(&beta, "Forklift safety").await;
    let seen = full(&bea, on_beta).await;
    assert_eq!(seen["quiz"], true);
    assert_eq!(seen["remote"], true);
    assert_eq!(seen["may_respond"], true);
    assert_eq!(seen["questions"], 2);
    // The right answers travel, but beta shows none before the answer.
    assert!(seen["questions_list"][0]["choices"][0]
        .get("correct")
        .is_none());
    assert!(!seen.to_string().contains("Walking pace"));
    let q = ids(&seen);
    let (s, r) = bea
        .post(
            &format!("/api/v1/surveys/{on_beta}/responses"),
            json!({"answers": [
                {"question": q[0].0, "choices": [q[0].1[0]]},
                {"question": q[1].0, "choices": [q[1].1[0]]}
            ]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    // Scored at once on beta, with the explanation.
    assert_eq!(r["score"], 1);
    assert_eq!(
        r["questions_list"][0]["explanation"],
        "Walking pace, indoors."
    );
    // And counted on alpha, where ann sees the response.
    let results = eventually(15, "alpha to count bea's response", || async {
        let (_, v) = ann.get(&format!("/api/v1/surveys/{quiz}/results")).await;
        (v["respondents"] == 1).then_some(v)
    })
    .await;
    assert_eq!(results["questions"][0]["counts"][0]["count"], 1);
    assert_eq!(results["questions"][1]["counts"][0]["count"], 1);
    assert_eq!(results["questions"][1]["right_percent"], 0);
    assert_eq!(results["average_score"], 1.0);
    let (_, board) = ann
        .get(&format!("/api/v1/surveys/{quiz}/leaderboard"))
        .await;
    assert_eq!(board[0]["username"], beta.handle("bea").as_str(), "{board}");
    assert_eq!(board[0]["score"], 1);
    // Once only, here and there.
    let (s, r) = bea
        .post(
            &format!("/api/v1/surveys/{on_beta}/responses"),
            json!({"answers": [
                {"question": q[0].0, "choices": [q[0].1[1]]},
                {"question": q[1].0, "choices": [q[1].1[1]]}
            ]}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{r}");
    assert_eq!(r["error"]["code"], "survey_answered");

    // A survey with a text: the author reads who wrote it, from where.
    let (s, p) = ann
        .post(
            "/api/v1/surveys",
            json!({"title": "Site visit", "questions": [
                {"kind": "scale", "prompt": "Was it useful?"},
                {"kind": "text", "prompt": "What to change?", "optional": true}
            ]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let visit = p["id"].as_i64().unwrap();
    let on_beta = survey_on(&beta, "Site visit").await;
    let q = ids(&full(&bea, on_beta).await);
    let (s, r) = bea
        .post(
            &format!("/api/v1/surveys/{on_beta}/responses"),
            json!({"answers": [
                {"question": q[0].0, "scale": 5},
                {"question": q[1].0, "text": "Longer, please"}
            ]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let results = eventually(15, "alpha to count bea's text", || async {
        let (_, v) = ann.get(&format!("/api/v1/surveys/{visit}/results")).await;
        (v["respondents"] == 1).then_some(v)
    })
    .await;
    assert_eq!(results["questions"][0]["average"], 5.0);
    assert_eq!(
        results["questions"][1]["texts"][0]["text"],
        "Longer, please"
    );
    assert_eq!(
        results["questions"][1]["texts"][0]["who"],
        beta.handle("bea").as_str(),
        "{results}"
    );
    // Closed at home, closed everywhere.
    let (s, _) = ann
        .post(&format!("/api/v1/surveys/{visit}/close"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    eventually(15, "beta to hear the survey closed", || async {
        let v = full(&bea, on_beta).await;
        (v["closed"] == true).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_from_another_server_is_checked_as_ours_are() {
    let [mut alpha, beta, gamma] = network();
    drop((beta, gamma));
    let foreign = ForeignServer::start().await;
    alpha.trust(&foreign.authority(), "partner");
    alpha.start().await;
    let ann = alpha.user("ann").await;
    let alice = format!("{}/users/alice", foreign.base);
    let ann_url = format!("{}/people/ann", alpha.base);
    // Mastodon's alice follows ann: she receives her surveys.
    mastodon_follows(&foreign, &alpha, "ann").await;
    let (s, p) = ann
        .post(
            "/api/v1/surveys",
            json!({"title": "Parking", "questions": [
                {"kind": "one", "prompt": "How do you come?", "choices": ["Car", "Bike", "Train"]},
                {"kind": "scale", "prompt": "How easy is parking?"}
            ]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let id = p["id"].as_i64().unwrap();
    let survey_url = format!("{}/posts/{id}", alpha.base);
    let inbox = format!("{}/people/ann/inbox", alpha.base);
    let response = |n: u32, answers: Value, to: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{alice}#responses/{n}/activity"),
            "type": "Create",
            "actor": alice,
            "to": ann_url,
            "object": {
                "id": format!("{alice}#responses/{n}"),
                "type": "Note",
                "attributedTo": alice,
                "inReplyTo": to,
                "to": ann_url,
                "content": "",
                "ruche:answers": answers
            }
        })
    };
    let responses = || alpha.count("SELECT COUNT(*) FROM survey_responses");
    let answers_stored = || alpha.count("SELECT COUNT(*) FROM survey_answers");
    // A question the survey does not have, a choice beyond its choices, a
    // value off the scale, a required question left out: refused.
    for (n, answers, code) in [
        (
            1,
            json!([{"question": 0, "choices": [0]}, {"question": 5, "text": "Hi"}]),
            "survey_question_unknown",
        ),
        (
            2,
            json!([{"question": 0, "choices": [7]}, {"question": 1, "scale": 3}]),
            "survey_choice_unknown",
        ),
        (
            3,
            json!([{"question": 0, "choices": [0]}, {"question": 1, "scale": 9}]),
            "survey_scale_invalid",
        ),
        (
            4,
            json!([{"question": 0, "choices": [0, 1]}, {"question": 1, "scale": 3}]),
            "survey_one_choice",
        ),
        (
            5,
            json!([{"question": 0, "choices": [0]}]),
            "survey_answer_required",
        ),
    ] {
        let (s, b) = foreign
            .send_value(&inbox, &response(n, answers, &survey_url))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{n}: {b}");
        assert!(b.contains(code), "{n}: {b}");
    }
    assert_eq!((responses(), answers_stored()), (0, 0));
    // A good one is counted, once.
    let good = json!([{"question": 0, "choices": [1]}, {"question": 1, "scale": 2}]);
    let (s, b) = foreign
        .send_value(&inbox, &response(6, good.clone(), &survey_url))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(responses(), 1);
    let (_, v) = ann.get(&format!("/api/v1/surveys/{id}/results")).await;
    assert_eq!(v["questions"][0]["counts"][1]["count"], 1, "{v}");
    assert_eq!(v["questions"][1]["average"], 2.0);
    let (s, b) = foreign
        .send_value(&inbox, &response(7, good.clone(), &survey_url))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(responses(), 1);
    // A survey of this site only takes no response from elsewhere.
    let (s, p) = ann
        .post(
            "/api/v1/surveys",
            json!({"title": "Lockers", "visibility": "instance", "questions": [{"kind": "scale", "prompt": "Enough?"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let private = format!("{}/posts/{}", alpha.base, p["id"].as_i64().unwrap());
    let (s, b) = foreign
        .send_value(
            &inbox,
            &response(8, json!([{"question": 0, "scale": 4}]), &private),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    assert_eq!(responses(), 1);
    // A server that knows no surveys shows a titled note; Ruche reads
    // its questions.
    let create = eventually(10, "the survey at the foreign server", || async {
        foreign
            .received()
            .into_iter()
            .find(|(_, _, v)| v["type"] == "Create" && v["object"]["name"] == "Parking")
    })
    .await
    .2;
    let note = &create["object"];
    assert_eq!(note["type"], "Note", "{note}");
    assert!(note["content"]
        .as_str()
        .unwrap()
        .starts_with("<p><strong>Parking</strong></p>"));
    assert_eq!(note["ruche:survey"]["questions"][0]["type"], "one");
    assert_eq!(
        note["ruche:survey"]["questions"][0]["choices"][2]["name"],
        "Train"
    );
    assert_eq!(note["ruche:survey"]["questions"][1]["type"], "scale");
}
