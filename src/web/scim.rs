//! SCIM 2.0 (RFC 7643, 7644) under `/scim/v2`: how the company's
//! directory (Entra ID, Okta…) pushes joiners, changes and leavers. This
//! door only translates: users as SCIM JSON (the core and enterprise user
//! schemas), the filters those clients send, PATCH operations applied to a
//! user's JSON before it is replaced. What it means for an account is
//! `accounts::provisioning`.
//!
//! - A bearer token per client (`ruche admin scim create NAME`): without
//!   one, or with a wrong or revoked one, 401 and nothing read or written.
//! - Errors are SCIM errors (`urn:ietf:params:scim:api:messages:2.0:Error`,
//!   with `scimType` where the RFC names one).
//! - Groups (`/Groups`): each is a community of this site whose members the
//!   group keeps (`communities::provisioned`); PATCH adds and removes
//!   members as Entra ID (`path: "members"` with a list) and Okta
//!   (`members[value eq "…"]`) send them.

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::accounts::provisioning::{self, Filter, Person, Provisioned};
use crate::app::AppState;
use crate::communities::provisioned::{self as groups, Group, GroupChange, GroupDoc, GroupFilter};
use crate::error::{AppError, ErrorKind};
use crate::i18n::Lang;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The largest request read.
const MAX_BODY: usize = 256 * 1024;
/// The most operations one PATCH may carry.
const MAX_OPERATIONS: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/scim/v2/ServiceProviderConfig", get(config))
        .route("/scim/v2/ResourceTypes", get(resource_types))
        .route("/scim/v2/Users", get(list).post(create))
        .route(
            "/scim/v2/Users/{id}",
            get(show).put(replace).patch(patch).delete(remove),
        )
        .route("/scim/v2/Groups", get(list_groups).post(create_group))
        .route(
            "/scim/v2/Groups/{id}",
            get(show_group)
                .put(replace_group)
                .patch(patch_group)
                .delete(remove_group),
        )
}

/// A SCIM error answer.
#[derive(Debug)]
pub struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
}

impl ScimError {
    fn bad(scim_type: &'static str, detail: impl Into<String>) -> ScimError {
        ScimError {
            status: StatusCode::BAD_REQUEST,
            scim_type: Some(scim_type),
            detail: detail.into(),
        }
    }
}

impl From<AppError> for ScimError {
    fn from(e: AppError) -> ScimError {
        if e.kind == ErrorKind::Internal {
            tracing::error!(error = %e, "SCIM request failed");
        }
        let scim_type = match e.code {
            "scim_uniqueness" | "directory_address_taken" | "already_exists" => Some("uniqueness"),
            "scim_invalid" | "field_invalid" => Some("invalidValue"),
            _ => None,
        };
        ScimError {
            status: StatusCode::from_u16(e.kind.status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            scim_type,
            detail: crate::error::message(&e, Lang::En),
        }
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "schemas": [ERROR],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t);
        }
        scim_json(self.status, body)
    }
}

fn scim_json(status: StatusCode, body: Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/scim+json"),
    );
    res
}

type ScimResult = Result<Response, ScimError>;

/// A resource just made: 201, with its address in `Location`.
fn created(body: Value) -> Response {
    let location = body["meta"]["location"]
        .as_str()
        .and_then(|l| HeaderValue::from_str(l).ok());
    let mut res = scim_json(StatusCode::CREATED, body);
    if let Some(v) = location {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// The provisioning client a bearer token names.
pub struct ScimClient(i64);

impl FromRequestParts<AppState> for ScimClient {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ScimError> {
        let unauthorized = |detail: &str| ScimError {
            status: StatusCode::UNAUTHORIZED,
            scim_type: None,
            detail: detail.to_string(),
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() < 200)
            .ok_or_else(|| unauthorized("A bearer token is needed."))?
            .to_string();
        let id = state
            .db
            .run(move |c| provisioning::client_by_token(c, &token))
            .await
            .map_err(|_| unauthorized("This token is not valid."))?;
        Ok(ScimClient(id))
    }
}

/// A JSON body (`application/scim+json` or `application/json`), bounded.
pub struct ScimBody(Value);

impl axum::extract::FromRequest<AppState> for ScimBody {
    type Rejection = ScimError;

    async fn from_request(req: axum::extract::Request, _: &AppState) -> Result<Self, ScimError> {
        let kind = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !kind.starts_with("application/scim+json") && !kind.starts_with("application/json") {
            return Err(ScimError {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                scim_type: None,
                detail: "Send application/scim+json.".into(),
            });
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY)
            .await
            .map_err(|_| ScimError {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                scim_type: None,
                detail: format!("At most {MAX_BODY} bytes."),
            })?;
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ScimError::bad("invalidSyntax", format!("Not JSON: {e}")))?;
        if !v.is_object() {
            return Err(ScimError::bad(
                "invalidSyntax",
                "A JSON object is expected.",
            ));
        }
        Ok(ScimBody(v))
    }
}

async fn config(_: ScimClient) -> Response {
    scim_json(
        StatusCode::OK,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": true},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": provisioning::MAX_PAGE},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
            "etag": {"supported": false},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "A token made with `ruche admin scim create NAME`.",
                "primary": true
            }]
        }),
    )
}

async fn resource_types(State(state): State<AppState>, _: ScimClient) -> Response {
    let base = state.config.base();
    scim_json(
        StatusCode::OK,
        json!({
            "schemas": [LIST],
            "totalResults": 2,
            "Resources": [{
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                "id": "User",
                "name": "User",
                "endpoint": "/Users",
                "schema": USER,
                "schemaExtensions": [{"schema": ENTERPRISE, "required": false}],
                "meta": {"resourceType": "ResourceType", "location": format!("{base}/scim/v2/ResourceTypes/User")}
            }, {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                "id": "Group",
                "name": "Group",
                "endpoint": "/Groups",
                "schema": GROUP,
                "meta": {"resourceType": "ResourceType", "location": format!("{base}/scim/v2/ResourceTypes/Group")}
            }]
        }),
    )
}

// ----- Users as SCIM JSON ---------------------------------------------------

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// A boolean as clients send it (`true`, or Entra ID's `"False"`).
fn boolean(v: Option<&Value>) -> Result<Option<bool>, ScimError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(ScimError::bad(
            "invalidValue",
            "active must be true or false.",
        )),
    }
}

/// The entry of a multi-valued attribute that counts: the primary one,
/// else the work one, else the first.
fn chosen(list: Option<&Value>) -> Option<&Map<String, Value>> {
    let items: Vec<&Map<String, Value>> = list?
        .as_array()?
        .iter()
        .filter_map(Value::as_object)
        .collect();
    items
        .iter()
        .find(|m| m.get("primary") == Some(&Value::Bool(true)))
        .or_else(|| {
            items
                .iter()
                .find(|m| m.get("type").and_then(Value::as_str) == Some("work"))
        })
        .or_else(|| items.first())
        .copied()
}

/// A user as a client sent it.
fn person(doc: &Value) -> Result<Person, ScimError> {
    let user_name = text(doc.get("userName"))
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ScimError::bad("invalidValue", "userName is required."))?;
    let name = doc.get("name");
    let ext = doc.get(ENTERPRISE);
    Ok(Person {
        user_name,
        external_id: text(doc.get("externalId")).unwrap_or_default(),
        active: boolean(doc.get("active"))?.unwrap_or(true),
        email: chosen(doc.get("emails"))
            .and_then(|m| text(m.get("value")))
            .unwrap_or_default(),
        given_name: text(name.and_then(|n| n.get("givenName"))).unwrap_or_default(),
        family_name: text(name.and_then(|n| n.get("familyName"))).unwrap_or_default(),
        display_name: text(doc.get("displayName"))
            .or_else(|| text(name.and_then(|n| n.get("formatted")))),
        title: text(doc.get("title")),
        department: text(ext.and_then(|e| e.get("department"))),
        site: chosen(doc.get("addresses")).and_then(|m| text(m.get("locality"))),
        // `{"value": id}`, or the bare id Entra ID's PATCH sets.
        manager: ext
            .and_then(|e| e.get("manager"))
            .and_then(|m| match m {
                Value::Object(o) => text(o.get("value")),
                other => text(Some(other)),
            })
            .filter(|m| !m.trim().is_empty()),
    })
}

/// A provisioned user as SCIM JSON.
fn resource(base: &str, p: &Provisioned) -> Value {
    let u = &p.user;
    let at = |t: chrono::NaiveDateTime| {
        t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let mut doc = json!({
        "schemas": [USER, ENTERPRISE],
        "id": u.id.to_string(),
        "userName": p.user_name,
        "active": !u.disabled,
        "displayName": u.display_name,
        "name": {
            "givenName": p.given_name,
            "familyName": p.family_name,
            "formatted": u.shown_name(),
        },
        "emails": [{"value": u.email, "type": "work", "primary": true}],
        "title": u.job_title,
        ENTERPRISE: {"department": u.department},
        "meta": {
            "resourceType": "User",
            "created": at(p.created_at),
            "lastModified": at(p.updated_at),
            "location": format!("{base}/scim/v2/Users/{}", u.id),
        },
    });
    if !p.external_id.is_empty() {
        doc["externalId"] = json!(p.external_id);
    }
    if !u.site.is_empty() {
        doc["addresses"] = json!([{"type": "work", "locality": u.site, "primary": true}]);
    }
    if let Some(m) = p.manager {
        doc[ENTERPRISE]["manager"] = json!({
            "value": m.to_string(),
            "$ref": format!("{base}/scim/v2/Users/{m}"),
        });
    }
    doc
}

// ----- Filters --------------------------------------------------------------

/// The filters Entra ID and Okta send: `userName eq "…"`,
/// `externalId eq "…"`, `emails[type eq "work"].value eq "…"`.
fn filter(raw: &str) -> Result<Filter, ScimError> {
    let invalid = || ScimError::bad("invalidFilter", format!("Filter not supported: {raw}"));
    let raw = raw.trim();
    let lower = raw.to_ascii_lowercase();
    let at = lower.rfind(" eq ").ok_or_else(invalid)?;
    let attr = lower[..at].trim();
    let value = raw[at + 4..].trim();
    let value: String = serde_json::from_str::<String>(value).map_err(|_| invalid())?;
    match attr {
        "username" => Ok(Filter::UserName(value)),
        "externalid" => Ok(Filter::ExternalId(value)),
        "emails.value" | "emails[type eq \"work\"].value" | "emails[primary eq true].value" => {
            Ok(Filter::Email(value))
        }
        _ => Err(invalid()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct ListQuery {
    filter: String,
    start_index: Option<String>,
    count: Option<String>,
}

/// A list's `startIndex` (from 1) and `count` (at most `max`; 100 when
/// not given).
fn paging(
    start_index: &Option<String>,
    count: &Option<String>,
    max: i64,
) -> Result<(i64, i64), ScimError> {
    let number = |v: &Option<String>, default: i64| -> Result<i64, ScimError> {
        match v {
            None => Ok(default),
            Some(s) => s
                .trim()
                .parse::<i64>()
                .map_err(|_| ScimError::bad("invalidValue", "startIndex and count are numbers.")),
        }
    };
    Ok((
        number(start_index, 1)?.max(1),
        number(count, 100)?.clamp(0, max),
    ))
}

async fn list(
    State(state): State<AppState>,
    ScimClient(client): ScimClient,
    Query(q): Query<ListQuery>,
) -> ScimResult {
    let (start, count) = paging(&q.start_index, &q.count, provisioning::MAX_PAGE)?;
    let f = match q.filter.trim() {
        "" => None,
        s => Some(filter(s)?),
    };
    let (total, rows) = state
        .db
        .run(move |c| provisioning::list(c, client, f.as_ref(), start, count))
        .await?;
    let base = state.config.base().to_string();
    let resources: Vec<Value> = rows.iter().map(|p| resource(&base, p)).collect();
    Ok(scim_json(
        StatusCode::OK,
        json!({
            "schemas": [LIST],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
    ))
}

fn user_id(raw: &str) -> Result<i64, ScimError> {
    raw.parse::<i64>()
        .map_err(|_| ScimError::from(AppError::not_found()))
}

async fn create(
    State(state): State<AppState>,
    ScimClient(client): ScimClient,
    ScimBody(doc): ScimBody,
) -> ScimResult {
    let p = person(&doc)?;
    let made = state
        .db
        .run(move |c| provisioning::create(c, client, &p))
        .await?;
    Ok(created(resource(state.config.base(), &made)))
}

async fn show(
    State(state): State<AppState>,
    ScimClient(client): ScimClient,
    Path(id): Path<String>,
) -> ScimResult {
    let id = user_id(&id)?;
    let p = state
        .db
        .run(move |c| provisioning::get(c, client, id))
        .await?;
    Ok(scim_json(StatusCode::OK, resource(state.config.base(), &p)))
}

async fn replace(
    State(state): State<AppState>,
    ScimClient(client): ScimClient,
    Path(id): Path<String>,
    ScimBody(doc): ScimBody,
) -> ScimResult {
    let id = user_id(&id)?;
    let p = person(&doc)?;
    let done = state
        .db
        .run(move |c| provisioning::replace(c, client, id, &p))
        .await?;
    Ok(scim_json(
        StatusCode::OK,
        resource(state.config.base(), &done),
    ))
}

async fn remove(
    State(state): State<AppState>,
    ScimClient(client): ScimClient,
    Path(id): Path<String>,
) -> ScimResult {
    let id = user_id(&id)?;
    state
        .db
        .run(move |c| provisioning::remove(c, client, id))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn patch(
    State(state): State<AppState>,
    ScimClient(client): ScimClient,
    Path(id): Path<String>,
    ScimBody(body): ScimBody,
) -> ScimResult {
    let id = user_id(&id)?;
    let ops = operations(&body)?;
    let current = state
        .db
        .run(move |c| provisioning::get(c, client, id))
        .await?;
    let base = state.config.base().to_string();
    let mut doc = resource(&base, &current);
    for op in &ops {
        apply(&mut doc, op)?;
    }
    let p = person(&doc)?;
    let done = state
        .db
        .run(move |c| provisioning::replace(c, client, id, &p))
        .await?;
    Ok(scim_json(StatusCode::OK, resource(&base, &done)))
}

// ----- Groups ---------------------------------------------------------------

/// A group as SCIM JSON; its members unless the client asked them left out
/// (`excludedAttributes=members`, as Entra ID does).
fn group_resource(base: &str, g: &Group, members: bool) -> Value {
    let at = |t: chrono::NaiveDateTime| {
        t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let mut doc = json!({
        "schemas": [GROUP],
        "id": g.id.to_string(),
        "displayName": g.display_name,
        "meta": {
            "resourceType": "Group",
            "created": at(g.created_at),
            "lastModified": at(g.updated_at),
            "location": format!("{base}/scim/v2/Groups/{}", g.id),
        },
    });
    if !g.external_id.is_empty() {
        doc["externalId"] = json!(g.external_id);
    }
    if members {
        doc["members"] = g
            .members
            .iter()
            .map(|(id, shown)| {
                json!({"value": id.to_string(), "display": shown,
                       "$ref": format!("{base}/scim/v2/Users/{id}")})
            })
            .collect();
    }
    doc
}

/// The user ids of a list of members (`[{"value": "12"}]`).
fn member_ids(list: &Value) -> Result<Vec<i64>, ScimError> {
    let bad = || {
        ScimError::bad(
            "invalidValue",
            "members are users of this client: [{\"value\": id}].",
        )
    };
    let items = match list {
        Value::Array(items) => items.as_slice(),
        Value::Object(_) => std::slice::from_ref(list),
        Value::Null => &[],
        _ => return Err(bad()),
    };
    items
        .iter()
        .map(|m| {
            text(m.get("value"))
                .and_then(|v| v.trim().parse::<i64>().ok())
                .ok_or_else(bad)
        })
        .collect()
}

/// A group as a client sent it; `members: None` when it named none.
fn group_doc(doc: &Value) -> Result<GroupDoc, ScimError> {
    let display_name = text(doc.get("displayName"))
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ScimError::bad("invalidValue", "displayName is required."))?;
    Ok(GroupDoc {
        display_name,
        external_id: text(doc.get("externalId")).unwrap_or_default(),
        members: doc.get("members").map(member_ids).transpose()?,
    })
}

/// Where `needle` (any case) first stands outside a quoted string.
fn outside_quotes(raw: &str, needle: &str) -> Option<usize> {
    let lower = raw.to_ascii_lowercase();
    let mut quoted = false;
    let mut escaped = false;
    for (i, ch) in lower.char_indices() {
        match ch {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            _ if !quoted && lower[i..].starts_with(needle) => return Some(i),
            _ => {}
        }
    }
    None
}

/// The filters Entra ID and Okta send for groups: `displayName eq "…"`,
/// `externalId eq "…"`, and Entra ID's `id eq "…" and members eq "…"`.
fn group_filter(raw: &str) -> Result<GroupFilter, ScimError> {
    let invalid = || ScimError::bad("invalidFilter", format!("Filter not supported: {raw}"));
    let clause = |s: &str| -> Result<(String, String), ScimError> {
        let s = s.trim();
        let at = s.to_ascii_lowercase().find(" eq ").ok_or_else(invalid)?;
        let value: String = serde_json::from_str(s[at + 4..].trim()).map_err(|_| invalid())?;
        Ok((s[..at].trim().to_ascii_lowercase(), value))
    };
    if let Some(at) = outside_quotes(raw, " and ") {
        let (a, b) = (clause(&raw[..at])?, clause(&raw[at + 5..])?);
        let (id, member) = match (a.0.as_str(), b.0.as_str()) {
            ("id", "members") => (a.1, b.1),
            ("members", "id") => (b.1, a.1),
            _ => return Err(invalid()),
        };
        return match (id.parse::<i64>(), member.parse::<i64>()) {
            (Ok(id), Ok(member)) => Ok(GroupFilter::IdHolds { id, member }),
            // Ids that are no ids of here name nothing.
            _ => Ok(GroupFilter::IdHolds { id: -1, member: -1 }),
        };
    }
    let (attr, value) = clause(raw)?;
    match attr.as_str() {
        "displayname" => Ok(GroupFilter::DisplayName(value)),
        "externalid" => Ok(GroupFilter::ExternalId(value)),
        _ => Err(invalid()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct GroupQuery {
    filter: String,
    start_index: Option<String>,
    count: Option<String>,
    excluded_attributes: String,
}

impl GroupQuery {
    fn members(&self) -> bool {
        !self
            .excluded_attributes
            .split(',')
            .any(|a| a.trim().eq_ignore_ascii_case("members"))
    }
}

async fn list_groups(
    State(state): State<AppState>,
    ScimClient(client): ScimClient,
    Query(q): Query<GroupQuery>,
) -> ScimResult {
    let (start, count) = paging(&q.start_index, &q.count, groups::MAX_PAGE)?;
    let f = match q.filter.trim() {
        "" => None,
        s => Some(group_filter(s)?),
    };
    let with_members = q.members();
    let (total, rows) = state
        .db
        .run(move |c| groups::list(c, client, f.as_ref(), start, count, with_members))
        .await?;
    let base = state.config.base().to_string();
    let resources: Vec<Value> = rows
        .iter()
        .map(|g| group_resource(&base, g, q.members()))
        .collect();
    Ok(scim_json(
        StatusCode::OK,
        json!({
            "schemas": [LIST],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
    ))
}

async fn create_group(
    State(state): State<AppState>,
    ScimClient(client): ScimClient,
    ScimBody(doc): ScimBody,
) -> ScimResult {
    let g = group_doc(&doc)?;
    let cfg = state.config.clone();
    let made = state
        .db
        .run(move |c| groups::create(c, &cfg, client, &g))
        .await?;
    Ok(created(group_resource(state.config.base(), &made, true)))
}

async fn show_group(
    State(state): State<AppState>,
    ScimClient(client): ScimClient,
    Path(id): Path<String>,
    Query(q): Query<GroupQuery>,
) -> ScimResult {
    let id = user_id(&id)?;
    let with_members = q.members();
    let g = state
        .db
        .run(move |c| groups::get(c, client, id, with_members))
        .await?;
    Ok(scim_json(
        StatusCode::OK,
        group_resource(state.config.base(), &g, q.members()),
    ))
}

async fn replace_group(
    State(state): State<AppState>,
    ScimClient(client): ScimClient,
    Path(id): Path<String>,
    ScimBody(doc): ScimBody,
) -> ScimResult {
    let id = user_id(&id)?;
    let mut g = group_doc(&doc)?;
    // A replacement names all the members (none when it names none).
    g.members.get_or_insert_with(Vec::new);
    let done = state
        .db
        .run(move |c| groups::replace(c, client, id, &g))
        .await?;
    Ok(scim_json(
        StatusCode::OK,
        group_resource(state.config.base(), &done, true),
    ))
}

async fn remove_group(
    State(state): State<AppState>,
    ScimClient(client): ScimClient,
    Path(id): Path<String>,
) -> ScimResult {
    let id = user_id(&id)?;
    state.db.run(move |c| groups::remove(c, client, id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn patch_group(
    State(state): State<AppState>,
    ScimClient(client): ScimClient,
    Path(id): Path<String>,
    ScimBody(body): ScimBody,
) -> ScimResult {
    let id = user_id(&id)?;
    let mut changes = Vec::new();
    for op in &operations(&body)? {
        changes.extend(group_changes(op)?);
    }
    let done = state
        .db
        .run(move |c| groups::patch(c, client, id, &changes))
        .await?;
    // Entra ID and Okta take 204 or the group; the group says what it is now.
    Ok(scim_json(
        StatusCode::OK,
        group_resource(state.config.base(), &done, true),
    ))
}

/// The member a path such as `members[value eq "12"]` names.
fn member_in_path(path: &str) -> Option<Result<i64, ScimError>> {
    let inner = path
        .get(..8)
        .filter(|h| h.eq_ignore_ascii_case("members["))
        .and_then(|_| path[8..].strip_suffix(']'))?;
    let bad = || ScimError::bad("invalidPath", format!("Path not supported: {path}"));
    let Some((key, value)) = inner.split_once(" eq ") else {
        return Some(Err(bad()));
    };
    if !key.trim().eq_ignore_ascii_case("value") {
        return Some(Err(bad()));
    }
    Some(
        serde_json::from_str::<Value>(value.trim())
            .ok()
            .and_then(|v| text(Some(&v)))
            .and_then(|v| v.trim().parse::<i64>().ok())
            .ok_or_else(|| ScimError::bad("invalidValue", "members are users of this client.")),
    )
}

/// What one PATCH operation asks of a group. Members are a set: `add` with
/// `path: "members"` adds those listed, `remove` with it removes those
/// listed (all without a value), `replace` sets them; `members[value eq
/// "…"]` names one (Okta). `displayName` and `externalId` are set with or
/// without a path (Okta sends the group's `id` along, which stays as it
/// is).
fn group_changes(op: &Value) -> Result<Vec<GroupChange>, ScimError> {
    let kind = op
        .get("op")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| ScimError::bad("invalidSyntax", "Each operation needs an op."))?;
    if !matches!(kind.as_str(), "add" | "replace" | "remove") {
        return Err(ScimError::bad(
            "invalidSyntax",
            format!("Unknown op {kind}."),
        ));
    }
    let path = op.get("path").and_then(Value::as_str).map(str::trim);
    let value = op.get("value").cloned().unwrap_or(Value::Null);
    let attr = |name: &str, v: &Value| -> Result<GroupChange, ScimError> {
        let Value::String(t) = v else {
            return Err(ScimError::bad("invalidValue", format!("{name} is text.")));
        };
        Ok(match name {
            "displayname" => GroupChange::DisplayName(t.clone()),
            _ => GroupChange::ExternalId(t.clone()),
        })
    };
    let Some(path) = path.filter(|p| !p.is_empty()) else {
        if kind == "remove" {
            return Err(ScimError::bad("noTarget", "remove needs a path."));
        }
        let Value::Object(attrs) = value else {
            return Err(ScimError::bad(
                "invalidValue",
                "Without a path, the value is an object.",
            ));
        };
        let mut out = Vec::new();
        for (k, v) in attrs {
            match k.to_ascii_lowercase().as_str() {
                "id" | "schemas" | "meta" => {}
                a @ ("displayname" | "externalid") => out.push(attr(a, &v)?),
                "members" if kind == "add" => out.push(GroupChange::AddMembers(member_ids(&v)?)),
                "members" => out.push(GroupChange::SetMembers(member_ids(&v)?)),
                _ => {
                    return Err(ScimError::bad(
                        "invalidPath",
                        format!("Attribute not supported: {k}"),
                    ))
                }
            }
        }
        return Ok(out);
    };
    if let Some(member) = member_in_path(path) {
        return match kind.as_str() {
            "remove" => Ok(vec![GroupChange::RemoveMembers(vec![member?])]),
            _ => Err(ScimError::bad(
                "invalidPath",
                format!("Path not supported: {path}"),
            )),
        };
    }
    let lower = path.to_ascii_lowercase();
    let schema = format!("{}:", GROUP.to_ascii_lowercase());
    let attribute = lower.strip_prefix(&schema).unwrap_or(&lower);
    match (kind.as_str(), attribute) {
        ("add", "members") => Ok(vec![GroupChange::AddMembers(member_ids(&value)?)]),
        ("replace", "members") => Ok(vec![GroupChange::SetMembers(member_ids(&value)?)]),
        ("remove", "members") if value.is_null() => Ok(vec![GroupChange::SetMembers(Vec::new())]),
        ("remove", "members") => Ok(vec![GroupChange::RemoveMembers(member_ids(&value)?)]),
        ("add" | "replace", a @ ("displayname" | "externalid")) => Ok(vec![attr(a, &value)?]),
        ("remove", "externalid") => Ok(vec![GroupChange::ExternalId(String::new())]),
        _ => Err(ScimError::bad(
            "invalidPath",
            format!("Path not supported: {path}"),
        )),
    }
}

/// The operations of a PATCH, bounded.
fn operations(body: &Value) -> Result<Vec<Value>, ScimError> {
    let ops = body
        .get("Operations")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| {
            ScimError::bad(
                "invalidSyntax",
                format!("A {PATCH_OP} with Operations is expected."),
            )
        })?;
    if ops.len() > MAX_OPERATIONS {
        return Err(ScimError::bad(
            "tooMany",
            format!("At most {MAX_OPERATIONS} operations."),
        ));
    }
    Ok(ops)
}

// ----- PATCH ----------------------------------------------------------------

/// One PATCH operation applied to a user's JSON: `add`, `replace` or
/// `remove` (any case), with a path (`active`, `name.givenName`,
/// `emails[type eq "work"].value`, an extension's `urn:…:department`) or,
/// for add and replace, without one and an object of attributes.
fn apply(doc: &mut Value, op: &Value) -> Result<(), ScimError> {
    let kind = op
        .get("op")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| ScimError::bad("invalidSyntax", "Each operation needs an op."))?;
    let path = op.get("path").and_then(Value::as_str).map(str::trim);
    let value = op.get("value").cloned().unwrap_or(Value::Null);
    match (kind.as_str(), path) {
        ("add" | "replace", None | Some("")) => {
            let Value::Object(attrs) = value else {
                return Err(ScimError::bad(
                    "invalidValue",
                    "Without a path, the value is an object.",
                ));
            };
            for (k, v) in attrs {
                match k.as_str() {
                    ENTERPRISE => {
                        if let (Some(Value::Object(ext)), Value::Object(v)) =
                            (doc.get_mut(ENTERPRISE), v)
                        {
                            ext.extend(v);
                        }
                    }
                    // "name.givenName" as a key (Entra ID sends some so).
                    _ if k.contains('.') || k.starts_with("urn:") => set(doc, &k, Some(v))?,
                    _ => doc[k.as_str()] = v,
                }
            }
            Ok(())
        }
        ("add" | "replace", Some(p)) => set(doc, p, Some(value)),
        ("remove", Some(p)) if !p.is_empty() => set(doc, p, None),
        ("remove", _) => Err(ScimError::bad("noTarget", "remove needs a path.")),
        _ => Err(ScimError::bad(
            "invalidSyntax",
            format!("Unknown op {kind}."),
        )),
    }
}

/// Sets (or with `None`, removes) the attribute `path` names.
fn set(doc: &mut Value, path: &str, value: Option<Value>) -> Result<(), ScimError> {
    let invalid = || ScimError::bad("invalidPath", format!("Path not supported: {path}"));
    // An extension's attribute: `urn:…:User:department`.
    let (target, path): (&mut Value, &str) = if path.len() > ENTERPRISE.len()
        && path[..ENTERPRISE.len()].eq_ignore_ascii_case(ENTERPRISE)
    {
        let rest = path[ENTERPRISE.len()..]
            .strip_prefix(':')
            .ok_or_else(invalid)?;
        let ext = doc
            .as_object_mut()
            .ok_or_else(invalid)?
            .entry(ENTERPRISE)
            .or_insert_with(|| json!({}));
        (ext, rest)
    } else if path.starts_with("urn:") {
        let rest = path
            .strip_prefix(USER)
            .and_then(|r| r.strip_prefix(':'))
            .ok_or_else(invalid)?;
        (doc, rest)
    } else {
        (doc, path)
    };
    // `attr[sub eq "v"].field`, `attr.field` or `attr`.
    let (head, field) = match path.find('[') {
        Some(open) => {
            let close = path.find(']').ok_or_else(invalid)?;
            let (attr, cond) = (&path[..open], &path[open + 1..close]);
            let field = path[close + 1..].strip_prefix('.').unwrap_or("");
            let (key, want) = cond.split_once(" eq ").ok_or_else(invalid)?;
            let want: Value = serde_json::from_str(want.trim()).map_err(|_| invalid())?;
            let list = target
                .as_object_mut()
                .ok_or_else(invalid)?
                .entry(attr)
                .or_insert_with(|| json!([]));
            let items = list.as_array_mut().ok_or_else(invalid)?;
            let found = items.iter().position(|i| i.get(key.trim()) == Some(&want));
            let at = match (found, &value) {
                (Some(i), _) => i,
                (None, None) => return Ok(()),
                (None, Some(_)) => {
                    items.push(json!({ key.trim(): want }));
                    items.len() - 1
                }
            };
            if field.is_empty() {
                match value {
                    Some(v) => items[at] = v,
                    None => {
                        items.remove(at);
                    }
                }
            } else {
                match value {
                    Some(v) => items[at][field] = v,
                    None => {
                        if let Some(o) = items[at].as_object_mut() {
                            o.remove(field);
                        }
                    }
                }
            }
            return Ok(());
        }
        None => match path.split_once('.') {
            Some((a, f)) => (a, f),
            None => (path, ""),
        },
    };
    if head.is_empty() {
        return Err(invalid());
    }
    let obj = target.as_object_mut().ok_or_else(invalid)?;
    if field.is_empty() {
        match value {
            Some(v) => {
                obj.insert(head.to_string(), v);
            }
            None => {
                obj.remove(head);
            }
        }
    } else {
        let inner = obj.entry(head).or_insert_with(|| json!({}));
        let inner = inner.as_object_mut().ok_or_else(invalid)?;
        match value {
            Some(v) => {
                inner.insert(field.to_string(), v);
            }
            None => {
                inner.remove(field);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_as_entra_id_and_okta_send_them() {
        assert_eq!(
            filter(r#"userName eq "Alice@Contoso.com""#).unwrap(),
            Filter::UserName("Alice@Contoso.com".into())
        );
        assert_eq!(
            filter(r#"externalId eq "0a21f0f2-8d2a""#).unwrap(),
            Filter::ExternalId("0a21f0f2-8d2a".into())
        );
        assert_eq!(
            filter(r#"emails[type eq "work"].value eq "a@b.example""#).unwrap(),
            Filter::Email("a@b.example".into())
        );
        for bad in [
            r#"userName co "a""#,
            "userName eq a",
            r#"title eq "x""#,
            "",
            r#"userName eq "a" or 1 eq 1"#,
        ] {
            assert!(filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn patch_paths_reach_what_they_name() {
        let mut doc = json!({"userName": "a", "active": true, "name": {"givenName": "A"},
                             "emails": [{"type": "work", "value": "a@x.example", "primary": true}],
                             ENTERPRISE: {"department": "R&D"}});
        apply(
            &mut doc,
            &json!({"op": "Replace", "path": "active", "value": "False"}),
        )
        .unwrap();
        apply(
            &mut doc,
            &json!({"op": "replace", "path": "name.familyName", "value": "Martin"}),
        )
        .unwrap();
        apply(&mut doc, &json!({"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "b@x.example"})).unwrap();
        apply(
            &mut doc,
            &json!({"op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "Sales"}),
        )
        .unwrap();
        apply(
            &mut doc,
            &json!({"op": "replace", "value": {"title": "Lead", "name.givenName": "Ann"}}),
        )
        .unwrap();
        apply(&mut doc, &json!({"op": "Remove", "path": "title"})).unwrap();
        let p = person(&doc).unwrap();
        assert!(!p.active);
        assert_eq!(p.family_name, "Martin");
        assert_eq!(p.given_name, "Ann");
        assert_eq!(p.email, "b@x.example");
        assert_eq!(p.department.as_deref(), Some("Sales"));
        assert_eq!(p.title, None);
        for bad in [
            json!({"op": "explode", "path": "active"}),
            json!({"op": "remove"}),
            json!({"op": "replace", "value": 3}),
            json!({"op": "replace", "path": "emails[type eq work].value", "value": "x"}),
            json!({"op": "replace", "path": "urn:other:schema:attr", "value": "x"}),
        ] {
            assert!(apply(&mut doc.clone(), &bad).is_err(), "{bad}");
        }
    }
}
