//! The OpenAPI 3.1 document, generated from the same route table that builds
//! the API router, so the two cannot drift apart.

use serde_json::{json, Map, Value};

use super::api::ROUTES;
use crate::Config;

fn schemas() -> Value {
    let s = |v: Value| v;
    let mut main = json!({
        "Error": s(json!({"type": "object", "required": ["error"], "properties": {
            "error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}}}}})),
        "SignUp": {"type": "object", "required": ["username", "email", "password"], "properties": {
            "username": {"type": "string", "pattern": "^[a-z0-9_]{3,30}$"},
            "email": {"type": "string", "format": "email"},
            "password": {"type": "string", "minLength": 10, "maxLength": 256},
            "invite": {"type": "string", "description": "Invitation code when sign-up is by invitation"}}},
        "PasswordForgot": {"type": "object", "required": ["login"], "properties": {
            "login": {"type": "string", "minLength": 1, "maxLength": 254, "description": "Username or e-mail"}}},
        "PasswordReset": {"type": "object", "required": ["token", "password"], "properties": {
            "token": {"type": "string", "description": "The secret at the end of the e-mailed link"},
            "password": {"type": "string", "minLength": 10, "maxLength": 256}}},
        "InvitationCreate": {"type": "object", "properties": {
            "email": {"type": "string", "format": "email", "description": "Also send the link to this address"},
            "locale": {"type": "string", "enum": ["en", "fr"]}}},
        "InvitationByEmail": {"type": "object", "required": ["email"], "properties": {
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "guest": {"type": "boolean", "description": "As a partner's guest, who sees only the communities they are invited to (403 guests_off when the site does not allow guests)"}}},
        "EmailChange": {"type": "object", "required": ["email", "password"], "properties": {
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "password": {"type": "string"}}},
        "EmailConfirm": {"type": "object", "required": ["token"], "properties": {
            "token": {"type": "string", "maxLength": 100}}},
        "MailPreferences": {"type": "object", "additionalProperties": false, "properties": {
            "mention": {"type": "string", "enum": ["now", "digest", "never"]},
            "reply": {"type": "string", "enum": ["now", "digest", "never"]},
            "community_invite": {"type": "string", "enum": ["now", "digest", "never"]},
            "community_request": {"type": "string", "enum": ["now", "digest", "never"]},
            "follow": {"type": "string", "enum": ["now", "digest", "never"]},
            "reaction": {"type": "string", "enum": ["now", "digest", "never"]},
            "community_accepted": {"type": "string", "enum": ["now", "digest", "never"]},
            "community_post": {"type": "string", "enum": ["now", "digest", "never"]},
            "document_updated": {"type": "string", "enum": ["now", "digest", "never"]},
            "poll_closed": {"type": "string", "enum": ["now", "digest", "never"]},
            "idea_status": {"type": "string", "enum": ["now", "digest", "never"]},
            "answer_accepted": {"type": "string", "enum": ["now", "digest", "never"]},
            "event_reminder": {"type": "string", "enum": ["now", "digest", "never"]},
            "event_place": {"type": "string", "enum": ["now", "digest", "never"]},
            "event_changed": {"type": "string", "enum": ["now", "digest", "never"]},
            "must_read": {"type": "string", "enum": ["now", "digest", "never"]},
            "must_read_reminder": {"type": "string", "enum": ["now", "digest", "never"]},
            "digest": {"type": "string", "enum": ["daily", "weekly", "never"]},
            "time_zone": {"type": "string", "description": "A zone of the time zone database (Europe/Paris): the digest leaves at 8:00 there"}}},
        "AppCode": {"type": "object", "required": ["code"], "properties": {
            "code": {"type": "string", "description": "The 6 digits the authenticator app shows"}}},
        "PasswordProof": {"type": "object", "required": ["password"], "properties": {
            "password": {"type": "string", "description": "The account's current password"}}},
        "PasskeyAdd": {"type": "object", "required": ["ceremony", "credential"], "properties": {
            "ceremony": {"type": "string"},
            "name": {"type": "string", "maxLength": 60, "description": "Empty: \"Passkey\" and the date"},
            "credential": {"type": "object", "description": "The authenticator's answer (a PublicKeyCredential of navigator.credentials.create, as WebAuthn's JSON)"}}},
        "PasskeyRename": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string", "maxLength": 60}}},
        "PasskeyToken": {"type": "object", "required": ["ceremony", "credential"], "properties": {
            "ceremony": {"type": "string"},
            "credential": {"type": "object", "description": "The authenticator's answer (a PublicKeyCredential of navigator.credentials.get, as WebAuthn's JSON)"},
            "name": {"type": "string", "description": "The token's name"}}},
        "PasswordToken": {"type": "object", "required": ["login", "password"], "properties": {
            "login": {"type": "string", "description": "Username or e-mail"},
            "password": {"type": "string"}, "name": {"type": "string"},
            "code": {"type": "string", "description": "The code of the authenticator app, or a recovery code, when the account's two-step sign-in is on"}}},
        "ProfileUpdate": {"type": "object", "properties": {
            "display_name": {"type": "string", "maxLength": 100},
            "job_title": {"type": "string", "maxLength": 100},
            "department": {"type": "string", "maxLength": 100},
            "site": {"type": "string", "maxLength": 100},
            "location": {"type": "string", "maxLength": 100},
            "work_email": {"type": "string", "format": "email"},
            "phone": {"type": "string", "maxLength": 30},
            "bio": {"type": "string", "maxLength": 2000, "description": "Markdown"},
            "skills": {"type": "array", "items": {"type": "string", "maxLength": 50}, "maxItems": 30},
            "languages": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
            "locale": {"type": "string", "enum": ["", "en", "fr"]}}},
        "PasswordChange": {"type": "object", "required": ["current_password", "new_password"], "properties": {
            "current_password": {"type": "string"}, "new_password": {"type": "string", "minLength": 10}}},
        "AccountDelete": {"type": "object", "required": ["password"], "properties": {"password": {"type": "string"}}},
        "TokenCreate": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "maxLength": 100}}},
        "PostCreate": {"type": "object", "required": ["body"], "properties": {
            "body": {"type": "string", "description": "Markdown, at most content.max_post_chars characters"},
            "visibility": {"type": "string", "enum": ["public", "organisation", "instance", "followers"], "default": "public"},
            "media_ids": {"type": "array", "maxItems": 10, "items": {"type": "integer"}, "description": "uploads (POST /media) to attach, in order; with them the body may be empty"}}},
        "PostEdit": {"type": "object", "required": ["body"], "properties": {"body": {"type": "string"}, "title": {"type": "string", "maxLength": 150, "description": "an idea's new title (ideas only)"}}},
        "Finder": {"type": "object", "properties": {"listed": {"type": "boolean", "description": "whether one appears in \"Who knows about …?\""}, "shared": {"type": "boolean", "description": "whether the organisation's other sites may list one in their search and expert finder"}}},
        "InstanceEntry": {"type": "object", "required": ["level"], "properties": {
            "level": {"type": "string", "enum": ["member", "partner", "blocked"]},
            "reason": {"type": "string", "maxLength": 500},
            "expires_at": {"type": "string", "description": "RFC 3339 time or YYYY-MM-DD; none for no expiry"},
            "allow_private": {"type": "boolean", "default": false}}},
        "CommentCreate": {"type": "object", "required": ["body"], "properties": {"body": {"type": "string"},
            "media_ids": {"type": "array", "maxItems": 10, "items": {"type": "integer"}, "description": "uploads (POST /media) to attach, in order; with them the body may be empty"}}},
        "CommunityCreate": {"type": "object", "required": ["name", "title"], "properties": {
            "name": {"type": "string", "pattern": "^[a-z0-9_]{3,30}$"},
            "title": {"type": "string", "maxLength": 100},
            "description": {"type": "string", "maxLength": 5000, "description": "Markdown"},
            "visibility": {"type": "string", "enum": ["public", "organisation", "private", "secret"], "default": "public"},
            "join_policy": {"type": "string", "enum": ["open", "request", "invitation"], "default": "open"},
            "partners": {"type": "boolean", "default": false, "description": "Let partner instances take part (not with organisation)"}}},
        "CommunitySettings": {"type": "object", "properties": {
            "title": {"type": "string", "maxLength": 100},
            "description": {"type": "string", "maxLength": 5000},
            "visibility": {"type": "string", "enum": ["public", "organisation", "private", "secret"]},
            "join_policy": {"type": "string", "enum": ["open", "request", "invitation"]},
            "partners": {"type": "boolean"}}},
        "CommunityPost": {"type": "object", "required": ["body"], "properties": {"body": {"type": "string"},
            "media_ids": {"type": "array", "maxItems": 10, "items": {"type": "integer"}, "description": "uploads (POST /media) to attach, in order; with them the body may be empty"}}},
        "Invitation": {"type": "object", "required": ["username"], "properties": {
            "username": {"type": "string", "description": "name, or name@host for someone of another instance"}}},
        "RoleChange": {"type": "object", "required": ["role"], "properties": {
            "role": {"type": "string", "enum": ["owner", "moderator", "member"]}}},
        "Reason": {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 500}}},
        "PreviewBody": {"type": "object", "required": ["body"], "properties": {"body": {"type": "string", "description": "Markdown"}}},
        "SiteUpdate": {"type": "object", "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 60},
            "signup": {"type": "string", "enum": ["open", "invite", "closed"]}}},
        "OnboardingMove": {"type": "object", "properties": {
            "step": {"type": "string", "enum": ["profile", "people", "communities"]},
            "finished": {"type": "boolean", "description": "true ends getting started (without step)"}}},
    });
    // The work apps' bodies, apart (one `json!` has a bounded depth).
    let apps = json!({
        "PollCreate": {"type": "object", "required": ["body", "options"], "properties": {
            "body": {"type": "string", "description": "The question (Markdown)"},
            "visibility": {"type": "string", "enum": ["public", "organisation", "instance", "followers"], "default": "public"},
            "community": {"type": "string", "description": "The community it is asked in (its members ask)"},
            "options": {"type": "array", "minItems": 2, "maxItems": 20, "items": {"type": "string", "maxLength": 100}},
            "multiple": {"type": "boolean", "default": false},
            "closes_at": {"type": "string", "format": "date-time"},
            "results": {"type": "string", "enum": ["voted", "closed"], "default": "voted"},
            "anonymous": {"type": "boolean", "default": false}}},
        "PollVote": {"type": "object", "required": ["choices"], "properties": {
            "choices": {"type": "array", "minItems": 1, "items": {"type": "integer"}, "description": "ids of the answers chosen"}}},
        "IdeaCreate": {"type": "object", "required": ["community", "title"], "properties": {
            "community": {"type": "string", "description": "The community it is submitted to (its members submit)"},
            "title": {"type": "string", "maxLength": 150},
            "body": {"type": "string", "description": "What it is about (Markdown; may be empty)"}}},
        "QuestionCreate": {"type": "object", "required": ["title"], "properties": {
            "title": {"type": "string", "maxLength": 150},
            "body": {"type": "string", "description": "Its details (Markdown; may be empty)"},
            "visibility": {"type": "string", "enum": ["public", "organisation", "instance", "followers"], "default": "public"},
            "community": {"type": "string", "description": "The community it is asked in (its members ask)"}}},
        "AnswerAccept": {"type": "object", "properties": {
            "answer": {"type": ["integer", "null"], "description": "the answer accepted (a direct answer of the question); null accepts none"}}},
        "IdeaMove": {"type": "object", "required": ["status"], "properties": {
            "status": {"type": "string", "enum": ["new", "under_review", "accepted", "done", "declined"]},
            "reason": {"type": "string", "maxLength": 500, "description": "Why (required to decline)"}}},
        "AppSwitch": {"type": "object", "required": ["enabled"], "properties": {
            "enabled": {"type": ["boolean", "null"], "description": "on or off; for a community, null follows the site"}}},
        "Rsvp": {"type": "object", "required": ["answer"], "properties": {
            "answer": {"type": "string", "enum": ["going", "maybe", "declined"]}}},
    });
    let surveys = json!({
        "SurveyAnswers": {"type": "object", "required": ["answers"], "properties": {
            "answers": {"type": "array", "maxItems": 30, "items": {"type": "object", "required": ["question"], "properties": {
                "question": {"type": "integer"},
                "choices": {"type": "array", "items": {"type": "integer"}},
                "scale": {"type": "integer", "minimum": 1, "maximum": 5},
                "text": {"type": "string", "maxLength": 2000}}}}}},
    });
    let question = json!({"type": "object", "required": ["kind", "prompt"], "properties": {
        "kind": {"type": "string", "enum": ["one", "several", "scale", "text"]},
        "prompt": {"type": "string", "maxLength": 300},
        "choices": {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 150}},
        "correct": {"type": "array", "items": {"type": "integer", "minimum": 0}, "description": "a quiz's right choices, by position"},
        "explanation": {"type": "string", "maxLength": 1000, "description": "a quiz's, shown once answered"},
        "optional": {"type": "boolean", "default": false}}});
    let survey_create = json!({
        "SurveyCreate": {"type": "object", "required": ["title", "questions"], "properties": {
            "title": {"type": "string", "maxLength": 150},
            "body": {"type": "string", "description": "Its introduction (Markdown; may be empty)"},
            "visibility": {"type": "string", "enum": ["public", "organisation", "instance", "followers"], "default": "public"},
            "community": {"type": "string", "description": "The community it is asked in (its members ask)"},
            "quiz": {"type": "boolean", "default": false},
            "leaderboard": {"type": "boolean", "default": true},
            "anonymous": {"type": "boolean", "default": false},
            "closes_at": {"type": "string", "format": "date-time"},
            "questions": {"type": "array", "minItems": 1, "maxItems": 30, "items": question}}},
    });
    // An event's fields, for planning and changing one.
    let event = json!({
        "title": {"type": "string", "maxLength": 150},
        "starts_at": {"type": "string", "description": "RFC 3339, or a local time (2026-12-10T09:00) in time_zone"},
        "ends_at": {"type": "string", "description": "the same way; an hour after the start when absent"},
        "time_zone": {"type": "string", "description": "a zone of the time zone database (Europe/Paris)"},
        "place": {"type": "string", "maxLength": 200},
        "online_url": {"type": "string", "maxLength": 2000, "description": "http or https"},
        "capacity": {"type": ["integer", "null"], "minimum": 1, "maximum": 100000},
        "waiting_list": {"type": "boolean", "default": true}
    });
    let mut create = event.clone();
    if let Value::Object(fields) = &mut create {
        fields.insert(
            "body".into(),
            json!({"type": "string", "description": "Its description (Markdown; may be empty)"}),
        );
        fields.insert("visibility".into(), json!({"type": "string", "enum": ["public", "organisation", "instance", "followers"], "default": "public"}));
        fields.insert("community".into(), json!({"type": "string", "description": "The community it is planned in (its members plan)"}));
    }
    let events = json!({
        "EventCreate": {"type": "object", "required": ["title", "starts_at", "time_zone"], "properties": create},
        "EventChange": {"type": "object", "required": ["title", "starts_at", "time_zone"], "properties": event},
    });
    for more in [apps, surveys, survey_create, events] {
        if let (Value::Object(all), Value::Object(more)) = (&mut main, more) {
            all.extend(more);
        }
    }
    main
}

fn error_response(desc: &str) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

pub fn document(config: &Config) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for r in ROUTES {
        let mut op = Map::new();
        op.insert("summary".into(), json!(r.summary));
        op.insert(
            "operationId".into(),
            json!(format!(
                "{}_{}",
                r.method,
                r.path.trim_matches('/').replace(['/', '{', '}', '.'], "_")
            )),
        );
        let params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut params = params;
        if r.method == "get"
            && (r.path.ends_with("feed")
                || r.path.contains("/tags/")
                || r.path.starts_with("/people")
                || r.path == "/communities"
                || r.path == "/communities/{name}/posts")
        {
            params.push(json!({"name": "cursor", "in": "query", "required": false, "schema": {"type": "string"},
                "description": "next_cursor of the previous page"}));
        }
        if r.method == "post"
            && (r.path == "/communities/{name}/documents" || r.path == "/documents/{id}/versions")
        {
            params.push(json!({"name": "filename", "in": "query", "required": true, "schema": {"type": "string", "maxLength": 200}}));
            params.push(json!({"name": "note", "in": "query", "required": false, "schema": {"type": "string", "maxLength": 2000}}));
        }
        if r.method == "get" && r.path == "/communities" {
            params.push(json!({"name": "q", "in": "query", "required": false, "schema": {"type": "string"}}));
            params.push(json!({"name": "mine", "in": "query", "required": false, "schema": {"type": "boolean"}}));
        }
        if r.method == "delete"
            && (r.path == "/communities/{name}/members/{username}"
                || r.path == "/communities/{name}/posts/{id}")
        {
            params.push(json!({"name": "reason", "in": "query", "required": false, "schema": {"type": "string", "maxLength": 500}}));
        }
        if r.method == "get" && r.path == "/mentions" {
            params.push(json!({"name": "q", "in": "query", "required": true, "schema": {"type": "string", "maxLength": 100}}));
        }
        if r.method == "get" && r.path == "/admin/users" {
            params.push(json!({"name": "q", "in": "query", "required": false, "schema": {"type": "string"}}));
            params.push(json!({"name": "show", "in": "query", "required": false, "schema": {"type": "string", "enum": ["all", "admins", "disabled", "remote"], "default": "all"}}));
            params.push(json!({"name": "cursor", "in": "query", "required": false, "schema": {"type": "string"},
                "description": "next_cursor of the previous page"}));
        }
        if r.method == "get" && r.path.starts_with("/suggestions/") {
            params.push(json!({"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}}));
        }
        if r.method == "get" && r.path == "/people" {
            for name in ["q", "department", "site", "skill"] {
                params.push(json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}}));
            }
        }
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        if !r.body.is_empty() {
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{}", r.body)}}}}),
            );
        } else if r.path == "/admin/instances/import" {
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"text/csv": {"schema": {"type": "string"}}}}),
            );
        } else if r.method == "post"
            && (r.path == "/communities/{name}/documents" || r.path == "/documents/{id}/versions")
        {
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}),
            );
        } else if (r.path == "/me/photo" || r.path == "/communities/{name}/picture")
            && r.method == "put"
        {
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {
                    "image/png": {"schema": {"type": "string", "format": "binary"}},
                    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                    "image/webp": {"schema": {"type": "string", "format": "binary"}}}}),
            );
        }
        if r.auth {
            op.insert("security".into(), json!([{"bearer": []}]));
        } else {
            op.insert("security".into(), json!([]));
        }
        let mut responses = Map::new();
        responses.insert("2XX".into(), json!({"description": "Success"}));
        responses.insert(
            "4XX".into(),
            error_response("Invalid request, not allowed or not found"),
        );
        responses.insert("5XX".into(), error_response("Server error"));
        op.insert("responses".into(), Value::Object(responses));
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        entry
            .as_object_mut()
            .expect("path item is an object")
            .insert(r.method.to_string(), Value::Object(op));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": format!("{} API", config.instance_name),
            "version": env!("CARGO_PKG_VERSION"),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": format!("{}/api/v1", config.base())}],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                "description": "A personal API token (settings page, or POST /auth/token)"}},
        },
    })
}
