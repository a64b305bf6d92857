//! Surveys and quizzes (`content::survey`): several questions (choices,
//! a scale, a short text), answered once; results with counts and a CSV
//! export for the author; quizzes scored, with explanations and a
//! leaderboard; over HTTP, through the API and the pages.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A survey of four questions: one choice, several, a scale, an optional
/// text.
fn canteen() -> Value {
    json!({
        "title": "The new canteen",
        "body": "Three minutes, to improve the menus.",
        "questions": [
            {"kind": "one", "prompt": "How often do you eat there?", "choices": ["Every day", "Sometimes", "Never"]},
            {"kind": "several", "prompt": "Which dishes do you take?", "choices": ["Soup", "Salad", "Dish of the day"]},
            {"kind": "scale", "prompt": "How good is it?"},
            {"kind": "text", "prompt": "Anything to add?", "optional": true}
        ]
    })
}

/// The ids of a survey's questions, and of each question's choices.
async fn questions(api: &Api, id: i64) -> Vec<(i64, Vec<i64>)> {
    let r = api.get(&format!("/surveys/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    r.json["questions_list"]
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

async fn create(api: &Api, body: Value) -> i64 {
    let r = api.post("/surveys", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(r.json["kind"], "survey");
    r.json["id"].as_i64().unwrap()
}

fn stored(app: &TestApp) -> [i64; 4] {
    [
        app.count("surveys"),
        app.count("survey_questions"),
        app.count("survey_responses"),
        app.count("survey_answers"),
    ]
}

#[tokio::test]
async fn a_survey_is_answered_once_and_its_author_reads_the_results_and_the_csv() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let id = create(&alice, canteen()).await;
    // The feed shows it with its title and how many questions it asks.
    let feed = bob.get("/feed?stream=site").await;
    let item = feed.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .cloned()
        .unwrap();
    assert_eq!(item["survey"]["title"], "The new canteen");
    assert_eq!(item["survey"]["questions"], 4);
    assert_eq!(item["survey"]["may_respond"], true);
    assert_eq!(item["survey"]["quiz"], false);

    let q = questions(&bob, id).await;
    let r = bob
        .post(
            &format!("/surveys/{id}/responses"),
            json!({"answers": [
                {"question": q[0].0, "choices": [q[0].1[0]]},
                {"question": q[1].0, "choices": [q[1].1[0], q[1].1[2]]},
                {"question": q[2].0, "scale": 4},
                {"question": q[3].0, "text": "More vegetarian dishes, please"}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(r.json["responded"], true);
    assert_eq!(r.json["may_respond"], false);
    assert_eq!(r.json["respondents"], 1);
    let mine = &r.json["questions_list"];
    assert_eq!(mine[0]["choices"][0]["mine"], true);
    assert_eq!(mine[0]["choices"][1]["mine"], false);
    assert_eq!(mine[1]["choices"][2]["mine"], true);
    assert_eq!(mine[2]["scale"], 4);
    assert_eq!(mine[3]["text"], "More vegetarian dishes, please");
    // A survey is no quiz: no score, no right answers shown.
    assert!(r.json["score"].is_null());
    assert!(mine[0]["choices"][0].get("correct").is_none());

    // Carol skips the optional text; a blank text is as if not given.
    let r = carol
        .post(
            &format!("/surveys/{id}/responses"),
            json!({"answers": [
                {"question": q[0].0, "choices": [q[0].1[1]]},
                {"question": q[1].0, "choices": [q[1].1[0]]},
                {"question": q[2].0, "scale": 1},
                {"question": q[3].0, "text": "   "}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);

    // Once only.
    let before = stored(&app);
    let r = bob
        .post(
            &format!("/surveys/{id}/responses"),
            json!({"answers": [
                {"question": q[0].0, "choices": [q[0].1[2]]},
                {"question": q[1].0, "choices": [q[1].1[1]]},
                {"question": q[2].0, "scale": 2}
            ]}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "survey_answered")
    );
    assert_eq!(
        r.message(),
        "You already responded to this survey.",
        "{:?}",
        r.json
    );
    assert_eq!(stored(&app), before);

    // The results are the author's.
    let r = bob.get(&format!("/surveys/{id}/results")).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "survey_results_author")
    );
    let r = bob.get(&format!("/surveys/{id}/results.csv")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = alice.get(&format!("/surveys/{id}/results")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let res = &r.json;
    assert_eq!(res["respondents"], 2);
    let q0 = &res["questions"][0];
    assert_eq!(q0["answered"], 2);
    assert_eq!(
        q0["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["count"].as_i64().unwrap(), c["percent"].as_i64().unwrap()))
            .collect::<Vec<_>>(),
        vec![(1, 50), (1, 50), (0, 0)]
    );
    let q1 = &res["questions"][1];
    assert_eq!(q1["counts"][0]["count"], 2);
    assert_eq!(q1["counts"][0]["percent"], 100);
    assert_eq!(q1["counts"][2]["count"], 1);
    let q2 = &res["questions"][2];
    assert_eq!(q2["average"], 2.5);
    assert_eq!(q2["counts"][0]["label"], "1");
    assert_eq!(q2["counts"][0]["count"], 1);
    assert_eq!(q2["counts"][3]["count"], 1);
    let q3 = &res["questions"][3];
    assert_eq!(q3["answered"], 1);
    assert_eq!(q3["texts"][0]["text"], "More vegetarian dishes, please");
    assert_eq!(q3["texts"][0]["who"], "bob");

    // The CSV: one line per response, its columns the questions.
    let r = alice
        .client
        .get(format!("{}/api/v1/surveys/{id}/results.csv", alice.base))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("The-new-canteen.csv"));
    let text = r.text().await.unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(
        lines[0],
        "respondent,answered_at,How often do you eat there?,Which dishes do you take?,How good is it?,Anything to add?"
    );
    assert!(
        lines[1].starts_with("bob,")
            && lines[1]
                .ends_with(",Every day,Soup; Dish of the day,4,\"More vegetarian dishes, please\""),
        "{}",
        lines[1]
    );
    assert!(lines[2].starts_with("carol,") && lines[2].ends_with(",Sometimes,Soup,1,"));

    // Closed by its author: no more responses, and it says so.
    let dave = app.user("dave").await;
    let r = alice.post(&format!("/surveys/{id}/close"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["closed"], true);
    let before = stored(&app);
    let r = dave
        .post(
            &format!("/surveys/{id}/responses"),
            json!({"answers": [
                {"question": q[0].0, "choices": [q[0].1[0]]},
                {"question": q[1].0, "choices": [q[1].1[0]]},
                {"question": q[2].0, "scale": 3}
            ]}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "survey_closed")
    );
    assert_eq!(stored(&app), before);
    let r = bob.post(&format!("/surveys/{id}/close"), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "not_author"));

    // Deleted: its questions and responses go with it.
    let r = alice.delete(&format!("/posts/{id}")).await;
    assert!(r.status.is_success(), "{:?}", r.json);
    assert_eq!(app.count("survey_questions"), 0);
    assert_eq!(app.count("survey_responses"), 0);
    assert_eq!(app.count("survey_answers"), 0);
    let r = alice.get(&format!("/surveys/{id}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_anonymous_survey_names_nobody_in_its_results() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mut body = canteen();
    body["anonymous"] = json!(true);
    let id = create(&alice, body).await;
    let q = questions(&bob, id).await;
    let r = bob
        .post(
            &format!("/surveys/{id}/responses"),
            json!({"answers": [
                {"question": q[0].0, "choices": [q[0].1[0]]},
                {"question": q[1].0, "choices": [q[1].1[0]]},
                {"question": q[2].0, "scale": 5},
                {"question": q[3].0, "text": "=cmd|' /C calc'!A0"}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let r = alice.get(&format!("/surveys/{id}/results")).await;
    assert!(r.json["questions"][3]["texts"][0].get("who").is_none());
    let text = alice
        .client
        .get(format!("{}/api/v1/surveys/{id}/results.csv", alice.base))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("bob"), "{text}");
    // Nor when: a time could name whoever answered then.
    assert!(!text.contains("answered_at"), "{text}");
    assert!(
        text.starts_with("\u{feff}How often do you eat there?,"),
        "{text}"
    );
    // A text a spreadsheet would run as a formula is kept as text.
    assert!(text.contains(",'=cmd|' /C calc'!A0"), "{text}");
}

#[tokio::test]
async fn bad_surveys_and_bad_answers_are_refused_and_nothing_is_stored() {
    let app = TestApp::start().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let q =
        |kind: &str, choices: Value| json!({"kind": kind, "prompt": "Which?", "choices": choices});
    let many: Vec<Value> = (0..31).map(|_| q("scale", json!([]))).collect();
    let options: Vec<String> = (0..21).map(|i| format!("Choice {i}")).collect();
    let cases = [
        (
            json!({"title": "No questions", "questions": []}),
            "survey_questions_count",
        ),
        (
            json!({"title": "Too many", "questions": many}),
            "survey_questions_count",
        ),
        (
            json!({"title": "", "questions": [q("scale", json!([]))]}),
            "title_required",
        ),
        (
            json!({"title": "One choice", "questions": [q("one", json!(["Yes"]))]}),
            "survey_choices_count",
        ),
        (
            json!({"title": "Too many choices", "questions": [q("one", json!(options))]}),
            "survey_choices_count",
        ),
        (
            json!({"title": "Twice", "questions": [q("several", json!(["Yes", " yes "]))]}),
            "survey_choices_repeated",
        ),
        (
            json!({"title": "Kind", "questions": [q("ranking", json!([]))]}),
            "survey_kind_invalid",
        ),
        (
            json!({"title": "Empty prompt", "questions": [{"kind": "scale", "prompt": "  "}]}),
            "survey_prompt_required",
        ),
        (
            json!({"title": "Choices of a scale", "questions": [q("scale", json!(["1", "2"]))]}),
            "survey_choices_unexpected",
        ),
        (
            json!({"title": "Not a quiz", "questions": [{"kind": "one", "prompt": "2+2?", "choices": ["4", "5"], "correct": [0]}]}),
            "survey_not_quiz",
        ),
        (
            json!({"title": "Quiz of a scale", "quiz": true, "questions": [q("scale", json!([]))]}),
            "quiz_kind_invalid",
        ),
        (
            json!({"title": "Quiz without answer", "quiz": true, "questions": [q("one", json!(["4", "5"]))]}),
            "quiz_correct_required",
        ),
        (
            json!({"title": "Quiz beyond its choices", "quiz": true, "questions": [{"kind": "one", "prompt": "2+2?", "choices": ["4", "5"], "correct": [2]}]}),
            "quiz_correct_required",
        ),
        (
            json!({"title": "Quiz of two right", "quiz": true, "questions": [{"kind": "one", "prompt": "2+2?", "choices": ["4", "5"], "correct": [0, 1]}]}),
            "quiz_one_correct",
        ),
        (
            json!({"title": "Closed already", "closes_at": "2020-01-01T00:00:00Z", "questions": [q("scale", json!([]))]}),
            "survey_closes_invalid",
        ),
    ];
    let before = (app.count("content"), stored(&app));
    for (body, code) in cases {
        let r = alice.post("/surveys", body.clone()).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, code),
            "{body}: {:?}",
            r.json
        );
        assert!(!r.message().is_empty());
    }
    assert_eq!((app.count("content"), stored(&app)), before);
    // The message names the question.
    let r = alice
        .post(
            "/surveys",
            json!({"title": "T", "questions": [q("scale", json!([])), q("one", json!(["Only"]))]}),
        )
        .await;
    assert_eq!(r.message(), "Question 2 offers 2 to 20 choices.");

    let id = create(&alice, canteen()).await;
    let other = create(&alice, canteen()).await;
    let q = questions(&bob, id).await;
    let elsewhere = questions(&bob, other).await;
    let good = |extra: Vec<Value>| {
        let mut answers = vec![
            json!({"question": q[0].0, "choices": [q[0].1[0]]}),
            json!({"question": q[1].0, "choices": [q[1].1[0]]}),
            json!({"question": q[2].0, "scale": 3}),
        ];
        answers.extend(extra);
        json!({"answers": answers})
    };
    let long = "x".repeat(2001);
    let cases = [
        // A question of another survey, or none at all.
        (
            good(vec![json!({"question": elsewhere[3].0, "text": "Hi"})]),
            "survey_question_unknown",
        ),
        (
            good(vec![json!({"question": 999_999, "text": "Hi"})]),
            "survey_question_unknown",
        ),
        (
            good(vec![json!({"question": q[0].0, "choices": [q[0].1[1]]})]),
            "survey_answer_repeated",
        ),
        (
            json!({"answers": [
            {"question": q[0].0, "choices": [q[0].1[0], q[0].1[1]]},
            {"question": q[1].0, "choices": [q[1].1[0]]},
            {"question": q[2].0, "scale": 3}]}),
            "survey_one_choice",
        ),
        (
            json!({"answers": [
            {"question": q[0].0, "choices": [q[1].1[0]]},
            {"question": q[1].0, "choices": [q[1].1[0]]},
            {"question": q[2].0, "scale": 3}]}),
            "survey_choice_unknown",
        ),
        (
            json!({"answers": [
            {"question": q[0].0, "choices": [q[0].1[0]]},
            {"question": q[1].0, "choices": [q[1].1[0]]},
            {"question": q[2].0, "scale": 6}]}),
            "survey_scale_invalid",
        ),
        (
            json!({"answers": [
            {"question": q[0].0, "choices": [q[0].1[0]]},
            {"question": q[1].0, "choices": [q[1].1[0]]},
            {"question": q[2].0, "text": "four"}]}),
            "survey_answer_invalid",
        ),
        (
            good(vec![json!({"question": q[3].0, "text": long})]),
            "survey_text_too_long",
        ),
        (
            json!({"answers": [
            {"question": q[0].0, "choices": [q[0].1[0]]},
            {"question": q[2].0, "scale": 3}]}),
            "survey_answer_required",
        ),
        (json!({"answers": []}), "survey_answer_required"),
        // More answers than questions: refused before any is read.
        (
            good(vec![
                json!({"question": q[3].0, "text": "a"}),
                json!({"question": q[3].0, "text": "b"}),
            ]),
            "too_many",
        ),
    ];
    let before = stored(&app);
    for (body, code) in cases {
        let r = bob
            .post(&format!("/surveys/{id}/responses"), body.clone())
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, code),
            "{body}: {:?}",
            r.json
        );
    }
    assert_eq!(stored(&app), before);
    let r = bob
        .post(
            &format!("/surveys/{id}/responses"),
            json!({"answers": [{"question": q[0].0, "choices": [q[0].1[0]]}]}),
        )
        .await;
    assert_eq!(r.message(), "Answer question 2.");
    // A survey that is not one, and a post that is not a survey.
    let post = alice.post_text("Just a post").await;
    let r = bob
        .post(&format!("/surveys/{post}/responses"), good(vec![]))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = bob.get(&format!("/surveys/{post}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The one good response goes through after all that.
    let r = bob
        .post(&format!("/surveys/{id}/responses"), good(vec![]))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
}

#[tokio::test]
async fn a_quiz_is_scored_explained_and_ranked_unless_its_author_turns_the_board_off() {
    // Open federation: anyone may fetch a public post's document unsigned.
    let app = TestApp::start_with(|c| {
        c.federation.mode = ruche::config::FederationMode::Open;
    })
    .await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dave = app.user("dave").await;
    let quiz = json!({
        "title": "Safety on site",
        "quiz": true,
        "questions": [
            {"kind": "one", "prompt": "Where is the assembly point?", "choices": ["Car park", "Roof", "Canteen"], "correct": [0],
             "explanation": "The car park, far from the buildings."},
            {"kind": "several", "prompt": "Which do you wear on site?", "choices": ["Helmet", "Sandals", "Safety shoes"], "correct": [0, 2]}
        ]
    });
    let id = create(&alice, quiz.clone()).await;
    // Before answering, the right answers are hidden.
    let r = bob.get(&format!("/surveys/{id}")).await;
    assert!(r.json["questions_list"][0]["choices"][0]
        .get("correct")
        .is_none());
    assert!(r.json["questions_list"][0].get("explanation").is_none());
    assert!(!r.json.to_string().contains("far from the buildings"));
    // Nor does its ActivityPub document, fetched unsigned by anyone.
    let doc: Value = app
        .client()
        .get(app.url(&format!("/posts/{id}")))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["ruche:survey"]["questions"][0]["choices"][0]["name"], "Car park",
        "{doc}"
    );
    assert!(!doc.to_string().contains("correct"), "{doc}");
    assert!(!doc.to_string().contains("far from the buildings"), "{doc}");
    // Its author knows them, and does not take it.
    let q = questions(&bob, id).await;
    let r = alice.get(&format!("/surveys/{id}")).await;
    assert_eq!(r.json["questions_list"][0]["choices"][0]["correct"], true);
    let all_right = json!({"answers": [
        {"question": q[0].0, "choices": [q[0].1[0]]},
        {"question": q[1].0, "choices": [q[1].1[0], q[1].1[2]]}
    ]});
    let r = alice
        .post(&format!("/surveys/{id}/responses"), all_right.clone())
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "quiz_own"));
    // Every question of a quiz is answered.
    let r = bob
        .post(
            &format!("/surveys/{id}/responses"),
            json!({"answers": [{"question": q[0].0, "choices": [q[0].1[0]]}]}),
        )
        .await;
    assert_eq!(r.code(), "survey_answer_required");
    // The leaderboard waits for one's answers.
    let r = bob.get(&format!("/surveys/{id}/leaderboard")).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "leaderboard_after_answering")
    );

    // Carol: one right (the second only half right counts as wrong).
    let r = carol
        .post(
            &format!("/surveys/{id}/responses"),
            json!({"answers": [
                {"question": q[0].0, "choices": [q[0].1[0]]},
                {"question": q[1].0, "choices": [q[1].1[0]]}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(r.json["score"], 1);
    assert_eq!(r.json["questions_list"][0]["right"], true);
    assert_eq!(r.json["questions_list"][1]["right"], false);
    assert_eq!(
        r.json["questions_list"][0]["explanation"],
        "The car park, far from the buildings."
    );
    assert_eq!(r.json["questions_list"][1]["choices"][2]["correct"], true);
    // Bob: all right. Dave: none.
    let r = bob
        .post(&format!("/surveys/{id}/responses"), all_right)
        .await;
    assert_eq!(r.json["score"], 2);
    let r = dave
        .post(
            &format!("/surveys/{id}/responses"),
            json!({"answers": [
                {"question": q[0].0, "choices": [q[0].1[1]]},
                {"question": q[1].0, "choices": [q[1].1[1]]}
            ]}),
        )
        .await;
    assert_eq!(r.json["score"], 0);

    let r = dave.get(&format!("/surveys/{id}/leaderboard")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let board: Vec<(i64, String, i64, bool)> = r
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["rank"].as_i64().unwrap(),
                x["username"].as_str().unwrap().to_string(),
                x["score"].as_i64().unwrap(),
                x["mine"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        board,
        vec![
            (1, "bob".into(), 2, false),
            (2, "carol".into(), 1, false),
            (3, "dave".into(), 0, true)
        ]
    );
    // The author's results: the share of right answers, the average.
    let r = alice.get(&format!("/surveys/{id}/results")).await;
    assert_eq!(r.json["average_score"], 1.0);
    assert_eq!(r.json["questions"][0]["right_percent"], 67);
    assert_eq!(r.json["questions"][1]["right_percent"], 33);
    assert_eq!(r.json["questions"][0]["counts"][0]["correct"], true);
    let csv = alice
        .client
        .get(format!("{}/api/v1/surveys/{id}/results.csv", alice.base))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("respondent,answered_at,score,"), "{csv}");
    assert!(csv.contains(",2,Car park,Helmet; Safety shoes"), "{csv}");

    // A quiz without a leaderboard keeps none.
    let mut off = quiz;
    off["leaderboard"] = json!(false);
    let id = create(&alice, off).await;
    let r = bob.get(&format!("/surveys/{id}/leaderboard")).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "leaderboard_off")
    );
    assert_eq!(
        bob.get(&format!("/surveys/{id}")).await.json["leaderboard"],
        false
    );
}

#[tokio::test]
async fn surveys_in_communities_are_for_their_members_and_follow_the_kit() {
    let app = TestApp::start().await;
    let admin = app.user("admin").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let r = alice
        .post("/communities", json!({"name": "team", "title": "Team"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let mut body = canteen();
    body["community"] = json!("team");
    let id = create(&alice, body.clone()).await;
    let q = questions(&bob, id).await;
    let answers = json!({"answers": [
        {"question": q[0].0, "choices": [q[0].1[0]]},
        {"question": q[1].0, "choices": [q[1].1[0]]},
        {"question": q[2].0, "scale": 3}
    ]});
    // Bob reads the public community but is not a member.
    let r = bob.get(&format!("/surveys/{id}")).await;
    assert_eq!(r.json["may_respond"], false);
    let r = bob
        .post(&format!("/surveys/{id}/responses"), answers.clone())
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "community_members_only")
    );
    // Outside the community nobody asks in it.
    let r = bob.post("/surveys", body.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.json);
    assert_eq!(app.count("surveys"), 1);

    // Polls switched off there: no new survey, no response; the survey
    // stays readable.
    let r = alice.post("/communities/team/join", json!({})).await;
    assert!(r.status.is_success() || r.status == StatusCode::CONFLICT);
    let r = bob.post("/communities/team/join", json!({})).await;
    assert!(r.status.is_success(), "{:?}", r.json);
    let r = admin
        .send_json(
            reqwest::Method::PUT,
            "/admin/apps/polls",
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let r = alice.post("/surveys", body).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "app_disabled")
    );
    let r = bob
        .post(&format!("/surveys/{id}/responses"), answers.clone())
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "app_disabled")
    );
    let r = bob.get(&format!("/surveys/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["may_respond"], false);
    // Back on: the member responds.
    admin
        .send_json(
            reqwest::Method::PUT,
            "/admin/apps/polls",
            json!({"enabled": true}),
        )
        .await;
    let r = bob.post(&format!("/surveys/{id}/responses"), answers).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
}

#[tokio::test]
async fn a_survey_is_asked_answered_and_read_from_the_pages_in_both_languages() {
    let app = TestApp::start().await;
    let alice = app.browser_user("alice").await;
    let bob = app.browser_user("bob").await;
    let html = alice.html("/").await;
    assert!(html.contains("href=\"/surveys/new\""), "{html}");
    assert!(html.contains("href=\"/surveys/new?quiz=1\""));
    let html = alice.html("/surveys/new").await;
    assert_eq!(html.matches("<fieldset class=\"survey-block\">").count(), 3);
    let csrf = alice.csrf("/surveys/new").await;
    // "Add a question" keeps everything and adds a block.
    let base = [
        ("csrf", csrf.as_str()),
        ("title", "Bureaux neufs"),
        ("body", "Deux minutes."),
        ("q0_prompt", "Quel étage ?"),
        ("q0_kind", "one"),
        ("q0_choices", "Premier\nSecond"),
        ("q1_prompt", "Note globale"),
        ("q1_kind", "scale"),
        ("q1_choices", ""),
        ("q2_prompt", "Remarques"),
        ("q2_kind", "text"),
        ("q2_optional", "1"),
        ("q2_choices", ""),
        ("anonymous", "1"),
        ("days", "14"),
        ("visibility", "organisation"),
    ];
    let mut more = base.to_vec();
    more.push(("more", "1"));
    let r = alice.post_form("/surveys/new", &more).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert_eq!(html.matches("<fieldset class=\"survey-block\">").count(), 4);
    assert!(html.contains("value=\"Quel étage ?\""), "{html}");
    assert!(html.contains(">Premier\nSecond</textarea>"), "{html}");
    assert!(html.contains("<option value=\"scale\" selected>"));
    assert!(html.contains("id=\"q2_optional\" name=\"q2_optional\" value=\"1\" checked"));
    assert!(html.contains("<option value=\"14\" selected>"));
    assert!(html.contains("<option value=\"organisation\" selected>"));
    assert_eq!(app.count("surveys"), 0);
    // A refused survey comes back as written, with the reason.
    let mut bad = base.to_vec();
    bad.retain(|(k, _)| *k != "q0_choices");
    bad.push(("q0_choices", "Premier"));
    let r = alice.post_form("/surveys/new", &bad).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Question 1 offers 2 to 20 choices."),
        "{html}"
    );
    assert!(html.contains("value=\"Bureaux neufs\""));
    assert!(html.contains("value=\"Note globale\""));
    assert_eq!(app.count("surveys"), 0);
    // Published.
    let r = alice.post_form("/surveys/new", &base).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    let id: i64 = to.trim_start_matches("/surveys/").parse().unwrap();

    // Bob answers in French; a refused answer keeps what he chose.
    let html = String::from_utf8(
        bob.get_lang(&to, "fr")
            .await
            .bytes()
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(html.contains("Envoyer mes réponses"), "{html}");
    assert!(html.contains("Bureaux neufs"));
    // The name of the field whose value starts with `value`, and that value.
    // The first radio button's field and value.
    let at = html.find("type=\"radio\" name=\"").unwrap() + "type=\"radio\" name=\"".len();
    let q0 = html[at..].split('"').next().unwrap().to_string();
    let v_at = html[at..].find("value=\"").unwrap() + at + 7;
    let choice = html[v_at..].split('"').next().unwrap().to_string();
    assert!(choice.starts_with('c'), "{choice}");
    let scale_at = html.find("value=\"s1\"").unwrap();
    let q1_at = html[..scale_at].rfind("name=\"").unwrap() + 6;
    let q1 = html[q1_at..].split('"').next().unwrap().to_string();
    let text_at = html.find("<textarea id=\"q").unwrap();
    let q2_at = html[text_at..].find("name=\"").unwrap() + text_at + 6;
    let q2 = html[q2_at..].split('"').next().unwrap().to_string();
    let csrf = bob.csrf(&to).await;
    let r = bob
        .post_form(
            &format!("/surveys/{id}/respond"),
            &[("csrf", &csrf), (&q0, &choice), (&q2, "Plus de lumière")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("Answer question 2."), "{html}");
    assert!(
        html.contains(&format!("value=\"{choice}\" checked")),
        "{html}"
    );
    assert!(html.contains(">Plus de lumière</textarea>"));
    let r = bob
        .post_form(
            &format!("/surveys/{id}/respond"),
            &[
                ("csrf", &csrf),
                (&q0, &choice),
                (&q1, "s4"),
                // A text that reads like a value of the scale stays a text.
                (&q2, "s2"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = bob.html(&to).await;
    assert!(
        html.contains("Thank you: your answers were recorded."),
        "{html}"
    );
    assert!(html.contains("<p>4 / 5</p>"), "{html}");
    assert!(html.contains("<blockquote class=\"excerpt\">s2</blockquote>"));
    assert!(!html.contains("Send my answers"));

    // The author reads the results as charts, and downloads them.
    let html = alice.html(&format!("/surveys/{id}/results")).await;
    assert!(
        html.contains("<progress max=\"100\" value=\"100\""),
        "{html}"
    );
    assert!(
        html.contains("average 4 / 5") || html.contains("average 4.0 / 5"),
        "{html}"
    );
    assert!(html.contains("<blockquote class=\"excerpt\">s2</blockquote>"));
    assert!(html.contains("its results do not say who answered what"));
    let r = alice.get(&format!("/surveys/{id}/results.csv")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    assert!(csv.contains("Premier,4,s2"), "{csv}");
    let r = bob.get(&format!("/surveys/{id}/results")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Closed from its page.
    let csrf = alice.csrf(&to).await;
    let r = alice
        .post_form(&format!("/surveys/{id}/close"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = String::from_utf8(
        alice
            .get_lang(&to, "fr")
            .await
            .bytes()
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(html.contains("Close"), "{html}");
}

#[tokio::test]
async fn a_quiz_is_written_with_stars_and_taken_from_the_pages() {
    let app = TestApp::start().await;
    let alice = app.browser_user("alice").await;
    let bob = app.browser_user("bob").await;
    let html = alice.html("/surveys/new?quiz=1").await;
    assert!(html.contains("name=\"quiz\" value=\"1\""), "{html}");
    assert!(!html.contains("<option value=\"scale\""));
    let csrf = alice.csrf("/surveys/new?quiz=1").await;
    let r = alice
        .post_form(
            "/surveys/new",
            &[
                ("csrf", &csrf),
                ("quiz", "1"),
                ("title", "Safety"),
                ("q0_prompt", "Assembly point?"),
                ("q0_kind", "one"),
                ("q0_choices", "*Car park\nRoof"),
                ("q0_explanation", "Far from the buildings."),
                ("q1_prompt", ""),
                ("q1_kind", "one"),
                ("q1_choices", ""),
                ("leaderboard", "1"),
                ("days", "0"),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let to = location(&r);
    let id: i64 = to.trim_start_matches("/surveys/").parse().unwrap();
    let html = bob.html(&to).await;
    assert!(html.contains("Take the quiz") || html.contains("Send my answers"));
    assert!(!html.contains("Far from the buildings."));
    let at = html.find("value=\"c").unwrap() + 7;
    let right = html[at..].split('"').next().unwrap().to_string();
    let name_at = html[..at].rfind("name=\"").unwrap() + 6;
    let name = html[name_at..].split('"').next().unwrap().to_string();
    let csrf = bob.csrf(&to).await;
    let r = bob
        .post_form(
            &format!("/surveys/{id}/respond"),
            &[("csrf", &csrf), (&name, &right)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = bob.html(&to).await;
    assert!(html.contains("Your score: 1 / 1"), "{html}");
    assert!(html.contains("Far from the buildings."));
    assert!(html.contains("Leaderboard"));
    // The feed says the score too.
    let html = bob.html("/?stream=site").await;
    assert!(html.contains("Your score: 1 / 1"), "{html}");
}
