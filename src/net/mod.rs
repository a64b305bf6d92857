//! Talking to other instances safely, below the features and knowing
//! nothing of them: which instances (the [`trust`] gate), which addresses
//! (private ones only where an administrator allowed them, see
//! [`crate::addresses`]), our RSA [`keys`], HTTP [`signature`]s
//! (draft-cavage and RFC 9421, and which [`schemes`] each instance accepts),
//! and the outgoing [`client`] that applies all of them to every request. What the messages mean is `federation`'s business.

pub mod client;
pub mod keys;
pub mod schemes;
pub mod signature;
pub mod trust;

/// Media type of the ActivityPub documents we send.
pub const AP_TYPE: &str = "application/activity+json";
