//! What lists, feeds and notifications show of a person: a few public
//! fields of the account, shared by every feature that lists people.

use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{guests, leavers, remote_guests, users};

/// What lists and feeds show of a person.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = users)]
pub struct PersonSummary {
    #[serde(skip)]
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub job_title: String,
    pub department: String,
    pub site: String,
    pub photo_version: i64,
    /// A partner's guest account (`accounts::guest`): shown with a badge
    /// wherever the person appears.
    #[diesel(select_expression = diesel::dsl::exists(guests::table.filter(guests::user_id.eq(users::id))).or(diesel::dsl::exists(remote_guests::table.filter(remote_guests::user_id.eq(users::id)))))]
    #[diesel(select_expression_type = diesel::dsl::Or<diesel::dsl::exists<diesel::dsl::Filter<guests::table, diesel::dsl::Eq<guests::user_id, users::id>>>, diesel::dsl::exists<diesel::dsl::Filter<remote_guests::table, diesel::dsl::Eq<remote_guests::user_id, users::id>>>>)]
    pub guest: bool,
    /// Someone who left and whose profile the company's policy anonymised
    /// (`accounts::leavers`): shown as a former colleague.
    #[diesel(select_expression = diesel::dsl::exists(leavers::table.filter(leavers::user_id.eq(users::id)).filter(leavers::anonymised_at.is_not_null())))]
    #[diesel(select_expression_type = diesel::dsl::exists<diesel::dsl::Filter<diesel::dsl::Filter<leavers::table, diesel::dsl::Eq<leavers::user_id, users::id>>, diesel::dsl::IsNotNull<leavers::anonymised_at>>>)]
    pub former: bool,
}

impl PersonSummary {
    pub fn shown_name(&self) -> &str {
        if self.display_name.trim().is_empty() {
            &self.username
        } else {
            &self.display_name
        }
    }
    /// The name to show, or `former` (the words "former colleague" in the
    /// reader's language) for someone whose profile was anonymised.
    pub fn name_or<'a>(&'a self, former: &'a str) -> &'a str {
        if self.former {
            former
        } else {
            self.shown_name()
        }
    }
    /// Up to two initials, for the placeholder avatar.
    pub fn initials(&self) -> String {
        initials(self.shown_name())
    }
}

pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}
