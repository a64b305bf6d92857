//! Federation between instances. For now: the trust gate (which instances may
//! federate, at which level) and address checks for remote hosts.

pub mod net;
pub mod trust;
