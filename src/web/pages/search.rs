//! The search page: one box, three tabs (content, people, communities),
//! the people's facets, and the help for the query syntax.

use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::{error_text, render, require_user, Base, PageResult};
use crate::app::AppState;
use crate::error::ErrorKind;
use crate::search::{self, FacetValue, PeopleFilter, Results, Tab};
use crate::web::auth::Ctx;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchQuery {
    q: String,
    #[serde(rename = "type")]
    tab: String,
    page: i64,
    department: String,
    site: String,
    skill: String,
    instance: String,
}

/// A facet's value as a link that narrows (or widens again) the search.
pub struct FacetLink {
    pub value: String,
    pub count: i64,
    pub url: String,
    pub chosen: bool,
}

pub struct FacetGroup {
    pub title_key: &'static str,
    pub links: Vec<FacetLink>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    base: Base,
    q: String,
    tab: &'static str,
    results: Results,
    error: Option<String>,
    /// Links to the three tabs, with the query and no facet.
    tab_urls: [String; 3],
    facets: Vec<FacetGroup>,
    /// The search without its facets, when one is chosen.
    clear_url: Option<String>,
    prev_url: Option<String>,
    next_url: Option<String>,
}

fn enc(s: &str) -> String {
    crate::markdown::encode_segment(s)
}

fn url(q: &str, tab: &str, f: &[(&str, &str)], page: i64) -> String {
    let mut out = format!("/search?q={}&type={tab}", enc(q));
    for (name, v) in f {
        if !v.is_empty() {
            out.push_str(&format!("&{name}={}", enc(v)));
        }
    }
    if page > 0 {
        out.push_str(&format!("&page={page}"));
    }
    out
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(sq): Query<SearchQuery>,
) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let viewer = user.id;
    let mut error = None;
    let tab = match Tab::parse(Some(&sq.tab)) {
        Ok(t) => t,
        Err(_) => Tab::Content,
    };
    let filter = PeopleFilter {
        department: Some(sq.department.clone()),
        site: Some(sq.site.clone()),
        skill: Some(sq.skill.clone()),
        instance: Some(sq.instance.clone()),
    };
    let (raw, f2, page) = (sq.q.clone(), filter.clone(), sq.page);
    let results = match state
        .db
        .run(move |c| search::run(c, viewer, &raw, tab, &f2, page))
        .await
    {
        Ok(r) => r,
        Err(e) if e.kind == ErrorKind::BadRequest => {
            error = Some(error_text(&e, ctx.lang));
            Results::default()
        }
        Err(e) => return Err(super::PageError::new(&state, &ctx, e)),
    };
    let t = tab.as_str();
    let chosen: [(&str, &str); 4] = [
        ("department", &sq.department),
        ("site", &sq.site),
        ("skill", &sq.skill),
        ("instance", &sq.instance),
    ];
    let group = |title_key: &'static str, name: &str, values: &[FacetValue]| FacetGroup {
        title_key,
        links: values
            .iter()
            .map(|v| {
                let mut f = chosen;
                let is = chosen
                    .iter()
                    .any(|(n, c)| *n == name && c.eq_ignore_ascii_case(&v.value));
                for slot in f.iter_mut().filter(|(n, _)| *n == name) {
                    slot.1 = if is { "" } else { v.value.as_str() };
                }
                FacetLink {
                    value: v.value.clone(),
                    count: v.count,
                    url: url(&sq.q, t, &f, 0),
                    chosen: is,
                }
            })
            .collect(),
    };
    let facets = if tab == Tab::People {
        let f = &results.facets;
        vec![
            group("search.facet_department", "department", &f.department),
            group("search.facet_site", "site", &f.site),
            group("search.facet_skill", "skill", &f.skill),
            group("search.facet_instance", "instance", &f.instance),
        ]
        .into_iter()
        .filter(|g| !g.links.is_empty())
        .collect()
    } else {
        Vec::new()
    };
    let any_chosen = chosen.iter().any(|(_, v)| !v.is_empty());
    let page_url = |p: i64| url(&sq.q, t, &chosen, p);
    let view = SearchPage {
        base: Base::new(&state, &ctx, "search.title", "search"),
        tab_urls: [
            url(&sq.q, "content", &[], 0),
            url(&sq.q, "people", &[], 0),
            url(&sq.q, "communities", &[], 0),
        ],
        clear_url: any_chosen.then(|| url(&sq.q, t, &[], 0)),
        prev_url: (results.page > 0).then(|| page_url(results.page - 1)),
        next_url: results.more.then(|| page_url(results.page + 1)),
        facets,
        tab: t,
        q: sq.q,
        results,
        error,
    };
    Ok(render(&view))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ExpertsQuery {
    topic: String,
}

#[derive(Template)]
#[template(path = "experts.html")]
struct ExpertsPage {
    base: Base,
    topic: String,
    experts: Vec<search::experts::Expert>,
    error: Option<String>,
}

/// "Who knows about …?"
pub async fn experts(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(eq): Query<ExpertsQuery>,
) -> PageResult {
    let user = require_user(&state, &ctx)?;
    let viewer = user.id;
    let topic = eq.topic.clone();
    let mut error = None;
    let experts = match state
        .db
        .run(move |c| search::experts::find(c, viewer, &topic))
        .await
    {
        Ok(list) => list,
        Err(e) if e.kind == ErrorKind::BadRequest => {
            error = Some(error_text(&e, ctx.lang));
            Vec::new()
        }
        Err(e) => return Err(super::PageError::new(&state, &ctx, e)),
    };
    let view = ExpertsPage {
        base: Base::new(&state, &ctx, "experts.title", "people"),
        topic: eq.topic,
        experts,
        error,
    };
    Ok(render(&view))
}
