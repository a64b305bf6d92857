//! `Invite` by a community of another instance of one of our people (a
//! local moderator's `Invite` to one of our communities is in
//! [`super::moderation`]).

use super::Received;
use crate::error::{AppError, AppResult};
use crate::federation::remote::invalid;
use crate::urls::Urls;

pub async fn receive(r: &Received<'_>) -> AppResult<()> {
    if !r.about_itself() {
        return Err(AppError::forbidden("not_author"));
    }
    let target = r
        .activity
        .target
        .as_ref()
        .ok_or_else(|| invalid("target"))?;
    let name = Urls(&r.state.config)
        .local_username(target.as_str())
        .ok_or_else(AppError::not_found)?;
    let gid = r.actor.id;
    r.state
        .db
        .run(move |c| {
            let person = crate::accounts::find_by_username(c, &name)?;
            crate::communities::membership_remote::invited_from_remote(c, gid, &person)
        })
        .await
}
