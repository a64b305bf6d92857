//! The first days: the three steps of getting started (complete one's
//! profile, follow colleagues, join communities), which a newcomer may skip
//! and come back to, how complete a profile is, and whom and which
//! communities to suggest ([`suggestions`]).
//!
//! A person with no row has not begun. The people who were here before
//! this existed were counted as done when it arrived (the migration).

pub mod suggestions;

use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::User;
use crate::db::schema::{onboarding, user_skills};
use crate::db::{self, now, DbConn};
use crate::error::{AppError, AppResult};

/// Signs a person up from the sign-up form or the API: the account, and,
/// when they came with a community's invitation, their membership of that
/// community, in one transaction.
pub fn sign_up(
    c: &mut DbConn,
    cfg: &crate::config::AccountsConfig,
    new: crate::accounts::NewAccount<'_>,
) -> AppResult<User> {
    crate::accounts::create_user_then(
        c,
        cfg,
        new,
        crate::accounts::CreatedBy::SignUp,
        |c, user, invitation| {
            crate::communities::membership::by_email::join_on_signup(c, user.id, invitation)
        },
    )
}

/// A step of getting started, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Profile,
    People,
    Communities,
}

impl Step {
    pub const ALL: [Step; 3] = [Step::Profile, Step::People, Step::Communities];

    pub fn parse(s: &str) -> AppResult<Step> {
        Step::ALL
            .into_iter()
            .find(|step| step.as_str() == s)
            .ok_or_else(|| AppError::bad_request("field_invalid").with("field", "step"))
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Profile => "profile",
            Step::People => "people",
            Step::Communities => "communities",
        }
    }
    /// 1, 2 or 3.
    pub fn number(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }
    pub fn next(self) -> Option<Step> {
        Step::ALL.get(self.number()).copied()
    }
}

/// What a profile has and lacks, of what colleagues look for.
#[derive(Debug, Clone, Serialize)]
pub struct Completeness {
    /// 0 to 100.
    pub percent: u8,
    /// The fields still empty, in the order of the profile form:
    /// `photo`, `display_name`, `job_title`, `department`, `site`,
    /// `skills`, `languages`, `bio`.
    pub missing: Vec<&'static str>,
}

impl Completeness {
    pub fn complete(&self) -> bool {
        self.missing.is_empty()
    }
}

/// How complete `user`'s profile is.
pub fn completeness(conn: &mut DbConn, user: &User) -> AppResult<Completeness> {
    let skills: i64 = user_skills::table
        .filter(user_skills::user_id.eq(user.id))
        .count()
        .get_result(conn)?;
    let filled = |s: &str| !s.trim().is_empty();
    let fields = [
        ("photo", user.photo_version > 0),
        ("display_name", filled(&user.display_name)),
        ("job_title", filled(&user.job_title)),
        ("department", filled(&user.department)),
        ("site", filled(&user.site)),
        ("skills", skills > 0),
        ("languages", filled(&user.languages)),
        ("bio", filled(&user.bio)),
    ];
    let missing: Vec<&'static str> = fields
        .iter()
        .filter(|(_, has)| !has)
        .map(|(name, _)| *name)
        .collect();
    let done = fields.len() - missing.len();
    Ok(Completeness {
        percent: (done * 100 / fields.len()) as u8,
        missing,
    })
}

/// Where a person stands in getting started.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    /// The step to show next (the first one when they have not begun).
    pub step: Step,
    /// Whether they went through the steps or chose to stop showing them.
    pub finished: bool,
    pub completeness: Completeness,
}

pub fn progress(conn: &mut DbConn, user: &User) -> AppResult<Progress> {
    let row: Option<(String, Option<chrono::NaiveDateTime>)> = onboarding::table
        .find(user.id)
        .select((onboarding::step, onboarding::finished_at))
        .first(conn)
        .optional()?;
    let (step, finished) = match row {
        Some((step, finished)) => (
            Step::parse(&step).unwrap_or(Step::Profile),
            finished.is_some(),
        ),
        None => (Step::Profile, false),
    };
    Ok(Progress {
        step,
        finished,
        completeness: completeness(conn, user)?,
    })
}

/// The steps `user` goes through: all three, but for a guest, who
/// completes their profile only (they are shown neither the company's
/// people nor its communities).
pub fn steps(conn: &mut DbConn, user: &User) -> AppResult<Vec<Step>> {
    Ok(match crate::audience::confined(conn, user.id)? {
        true => vec![Step::Profile],
        false => Step::ALL.to_vec(),
    })
}

/// Records that `user` reached `step` (they may come back to it later).
pub fn reach(conn: &mut DbConn, user: &User, step: Step) -> AppResult<()> {
    if !steps(conn, user)?.contains(&step) {
        return Err(AppError::bad_request("step_invalid"));
    }
    save(conn, user, step, None)
}

/// After the profile step: the step `user` goes to next, or `None` when
/// it was their last one (getting started is then finished).
pub fn profile_done(conn: &mut DbConn, user: &User) -> AppResult<Option<Step>> {
    if steps(conn, user)?.contains(&Step::People) {
        reach(conn, user, Step::People)?;
        Ok(Some(Step::People))
    } else {
        finish(conn, user)?;
        Ok(None)
    }
}

/// Records that `user` went through the steps, or asked not to see them
/// again: the home page stops offering them.
pub fn finish(conn: &mut DbConn, user: &User) -> AppResult<()> {
    let step = progress(conn, user)?.step;
    save(conn, user, step, Some(now()))
}

fn save(
    conn: &mut DbConn,
    user: &User,
    step: Step,
    finished: Option<chrono::NaiveDateTime>,
) -> AppResult<()> {
    if !user.is_local() || !user.is_person() {
        return Err(AppError::not_found());
    }
    let id = user.id;
    db::write(conn, |c| {
        let row = (
            onboarding::step.eq(step.as_str()),
            onboarding::finished_at.eq(finished),
            onboarding::updated_at.eq(now()),
        );
        let changed = diesel::update(onboarding::table.find(id))
            .set(row)
            .execute(c)?;
        if changed == 0 {
            diesel::insert_into(onboarding::table)
                .values((onboarding::user_id.eq(id), row.0, row.1, row.2))
                .execute(c)?;
        }
        Ok::<_, AppError>(())
    })
}

#[cfg(test)]
mod tests {
    use super::Step;

    #[test]
    fn steps_come_in_order_and_parse_back() {
        assert_eq!(Step::Profile.next(), Some(Step::People));
        assert_eq!(Step::People.next(), Some(Step::Communities));
        assert_eq!(Step::Communities.next(), None);
        for s in Step::ALL {
            assert_eq!(Step::parse(s.as_str()).unwrap(), s);
        }
        assert!(Step::parse("Profile").is_err());
        assert_eq!(Step::Communities.number(), 3);
    }
}
