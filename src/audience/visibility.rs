//! The two stored audiences: a post's [`Visibility`] and a community's
//! [`CommunityVisibility`], each stored as text, with the rule that gives a
//! remote reply its audience ([`narrowest`]).

use serde::Serialize;

use crate::error::{AppError, AppResult};

/// The audience of a post, as stored with it (a text column; see the
/// diesel conversions below).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, diesel::AsExpression, diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Everyone here, and followers on every trusted instance.
    Public,
    /// Everyone here, and followers on `member` instances (never partners).
    Organisation,
    /// Everyone signed in on this instance; never leaves it.
    Instance,
    /// The author's followers, wherever they are (and people it mentions).
    Followers,
    /// Only the author and the people it mentions or addresses (remote
    /// posts so addressed, and remote replies narrower than their thread).
    Direct,
    /// The members of its community, or everyone for an open community: see
    /// [`CommunityVisibility`].
    Community,
}

impl Visibility {
    /// An author's choice for a new post (forms and API): the four
    /// audiences a person picks from.
    pub fn parse(s: &str) -> AppResult<Visibility> {
        match s.trim() {
            "" | "public" => Ok(Visibility::Public),
            "organisation" => Ok(Visibility::Organisation),
            "instance" => Ok(Visibility::Instance),
            "followers" => Ok(Visibility::Followers),
            _ => Err(AppError::bad_request("visibility_invalid")),
        }
    }

    /// A stored value; anything unknown reads as the narrowest audience.
    pub fn stored(s: &str) -> Visibility {
        match s {
            "public" => Visibility::Public,
            "organisation" => Visibility::Organisation,
            "instance" => Visibility::Instance,
            "followers" => Visibility::Followers,
            "community" => Visibility::Community,
            _ => Visibility::Direct,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Organisation => "organisation",
            Visibility::Instance => "instance",
            Visibility::Followers => "followers",
            Visibility::Direct => "direct",
            Visibility::Community => "community",
        }
    }

    /// How narrow an audience is (for comparing a reply with its thread).
    fn rank(self) -> u8 {
        match self {
            Visibility::Public => 0,
            Visibility::Organisation => 1,
            Visibility::Instance => 2,
            Visibility::Followers => 3,
            Visibility::Direct | Visibility::Community => 4,
        }
    }
}

impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for Visibility
where
    DB: diesel::backend::Backend,
    String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
        Ok(Visibility::stored(&String::from_sql(bytes)?))
    }
}

impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for Visibility
where
    DB: diesel::backend::Backend,
    str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, DB>,
    ) -> diesel::serialize::Result {
        self.as_str().to_sql(out)
    }
}

/// The audience of a remote reply: its thread's, unless the reply itself
/// was addressed more narrowly (to its author's followers, or to a few
/// people, under a wider post), in which case it is `Direct`: seen only by
/// its author and the people it addresses, never by the whole thread. Two
/// followers-only audiences of different people have no common audience
/// that can be stored, so such a reply is `Direct` too. Community threads
/// follow their community.
pub fn narrowest(parent: Visibility, own: Visibility, same_author: bool) -> Visibility {
    if parent == Visibility::Community {
        return parent;
    }
    let both_followers = parent == Visibility::Followers && own == Visibility::Followers;
    if own.rank() > parent.rank() || (both_followers && !same_author) {
        Visibility::Direct
    } else {
        parent
    }
}

/// Who reads a community's posts and sees that it exists (stored as text,
/// like [`Visibility`]).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, diesel::AsExpression, diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "lowercase")]
pub enum CommunityVisibility {
    /// Everyone, here and on the instances it is open to.
    Public,
    /// Everyone here and on `member` instances (never partners).
    Organisation,
    /// Listed, but only members read the posts.
    Private,
    /// Neither listed nor readable but by members (and the invited).
    Secret,
}

impl CommunityVisibility {
    pub fn parse(s: &str) -> AppResult<CommunityVisibility> {
        match s.trim() {
            "" | "public" => Ok(Self::Public),
            "organisation" => Ok(Self::Organisation),
            "private" => Ok(Self::Private),
            "secret" => Ok(Self::Secret),
            _ => Err(AppError::bad_request("community_visibility_invalid")),
        }
    }
    /// A stored value; anything unknown reads as the narrowest.
    pub fn stored(s: &str) -> CommunityVisibility {
        Self::parse(s).unwrap_or(Self::Secret)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Organisation => "organisation",
            Self::Private => "private",
            Self::Secret => "secret",
        }
    }
    /// Whether everyone (not only members) reads the posts.
    pub fn open_content(self) -> bool {
        matches!(self, Self::Public | Self::Organisation)
    }
}

impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for CommunityVisibility
where
    DB: diesel::backend::Backend,
    String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
        Ok(CommunityVisibility::stored(&String::from_sql(bytes)?))
    }
}

impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for CommunityVisibility
where
    DB: diesel::backend::Backend,
    str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, DB>,
    ) -> diesel::serialize::Result {
        self.as_str().to_sql(out)
    }
}
