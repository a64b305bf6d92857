//! Validated newtypes for account input, parsed once at the edge.

use crate::error::AppError;

/// A local username: 3 to 30 characters among a-z, 0-9 and `_`, stored lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MIN: usize = 3;
    pub const MAX: usize = 30;

    pub fn parse(raw: &str) -> Result<Username, AppError> {
        let s = raw.trim().to_ascii_lowercase();
        if s.len() < Self::MIN || s.len() > Self::MAX {
            return Err(AppError::bad_request("username_length")
                .with("min", Self::MIN)
                .with("max", Self::MAX));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(AppError::bad_request("username_chars"));
        }
        Ok(Username(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, lowercased, with one `@` and a dotted domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, AppError> {
        let s = raw.trim().to_lowercase();
        let valid = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && match s.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && local.len() <= 64
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if valid {
            Ok(Email(s))
        } else {
            Err(AppError::bad_request("email_invalid"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 10 to 256 characters.
pub struct Password(String);

impl Password {
    pub const MIN: usize = 10;
    pub const MAX: usize = 256;

    pub fn parse(raw: &str) -> Result<Password, AppError> {
        let n = raw.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&n) {
            return Err(AppError::bad_request("password_length")
                .with("min", Self::MIN)
                .with("max", Self::MAX));
        }
        Ok(Password(raw.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(Username::parse(" Alice_1 ").unwrap().as_str(), "alice_1");
        assert_eq!(Username::parse("ab").unwrap_err().code, "username_length");
        assert_eq!(
            Username::parse(&"a".repeat(31)).unwrap_err().code,
            "username_length"
        );
        assert_eq!(
            Username::parse("al ice").unwrap_err().code,
            "username_chars"
        );
        assert_eq!(Username::parse("élise").unwrap_err().code, "username_chars");
        assert_eq!(Username::parse("a-b-c").unwrap_err().code, "username_chars");
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Bob@Example.COM ").unwrap().as_str(),
            "bob@example.com"
        );
        for bad in [
            "",
            "bob",
            "bob@",
            "@x.com",
            "bob@localhost",
            "a@b@c.com",
            "b ob@x.com",
            "bob@x.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("long enough pass").is_ok());
        assert!(Password::parse(&"x".repeat(257)).is_err());
    }
}
