//! Protocol documents and Ruche's rows, one file per object, both ways:
//! what a received actor ([`person`]), post or comment ([`note`]) or
//! document ([`document`]) becomes here, with the bounds on every field and
//! the checks of where it comes from; and what our people, communities
//! ([`group`]), posts and documents become when they are sent.

pub mod document;
pub mod group;
pub mod note;
pub mod person;
