//! IP address ranges: what counts as private (loopback, private, link-local,
//! unique-local and the like, in any spelling) and the CIDR ranges an
//! administrator writes in the configuration.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address range such as `10.0.0.0/8` or `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| "is not an IP address range".to_string())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("has a prefix length outside 0..={max}"))?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.prefix)
                };
                (u32::from(net) & mask) == (u32::from(ip) & mask)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.prefix)
                };
                (u128::from(net) & mask) == (u128::from(ip) & mask)
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 addresses are checked as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Whether an address is not on the public internet: private, loopback,
/// link-local, shared (CGNAT), unspecified, broadcast, multicast, reserved,
/// documentation or unique-local; an IPv4 address inside an IPv6 one
/// (mapped, NAT64, 6to4) counts as that IPv4 address.
pub fn is_private(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => is_private_v6(v6),
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_documentation()
        || ip.is_multicast()
        || o[0] == 0
        // 240.0.0.0/4, reserved (the broadcast address included).
        || o[0] >= 240
        || (o[0] == 100 && (o[1] & 0xc0) == 64)
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
        // 192.0.0.0/24, protocol assignments.
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
}

fn is_private_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // An IPv4 address carried inside an IPv6 one is judged as that IPv4
    // address: NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
    let embedded = match s {
        [0x64, 0xff9b, 0, 0, 0, 0, a, b] => Some((a, b)),
        [0x2002, a, b, ..] => Some((a, b)),
        _ => None,
    };
    if let Some((a, b)) = embedded {
        let v4 = Ipv4Addr::new((a >> 8) as u8, a as u8, (b >> 8) as u8, b as u8);
        return is_private_v4(v4);
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // ::/96, the deprecated IPv4-compatible addresses.
        || s[..6] == [0; 6]
        // 64:ff9b:1::/48, NAT64 for local use.
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
        // 100::/64, discard only.
        || (s[0] == 0x100 && s[1..4] == [0; 3])
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        // fec0::/10, the former site-local addresses.
        || (s[0] & 0xffc0) == 0xfec0
        || (s[0] == 0x2001 && s[1] == 0x0db8)
}

/// Whether a remote instance may be reached at `ip`: public addresses always;
/// private ones only inside an allowed range or when the instance's trust
/// entry allows private addresses.
pub fn address_allowed(ip: IpAddr, allowed_ranges: &[Cidr], instance_allows_private: bool) -> bool {
    !is_private(ip) || instance_allows_private || allowed_ranges.iter().any(|r| r.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_addresses() {
        for p in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd12::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "198.18.0.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "192.0.0.8",
            "ff02::1",
            "ff05::2",
            "64:ff9b::a00:1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "2002:c0a8:101::1",
            "2002:7f00:1::",
            "::7f00:1",
            "::a00:1",
            "100::1",
            "fec0::1",
        ] {
            assert!(is_private(ip(p)), "{p}");
        }
        for p in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2a00:1450::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "223.255.255.255",
        ] {
            assert!(!is_private(ip(p)), "{p}");
        }
    }

    #[test]
    fn ranges() {
        let r = Cidr::parse("10.20.0.0/16").unwrap();
        assert!(r.contains(ip("10.20.3.4")));
        assert!(!r.contains(ip("10.21.0.1")));
        assert!(r.contains(ip("::ffff:10.20.0.9")));
        let r6 = Cidr::parse("fd00::/8").unwrap();
        assert!(r6.contains(ip("fd12:3456::1")));
        assert!(!r6.contains(ip("fe80::1")));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("intranet").is_err());
        assert_eq!(
            Cidr::parse("192.168.1.7").unwrap(),
            Cidr::parse("192.168.1.7/32").unwrap()
        );
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("1.2.3.4")));

        let allowed = [r];
        assert!(address_allowed(ip("8.8.8.8"), &[], false));
        assert!(!address_allowed(ip("10.1.0.1"), &allowed, false));
        assert!(address_allowed(ip("10.20.0.1"), &allowed, false));
        assert!(address_allowed(ip("192.168.0.1"), &allowed, true));
    }
}
