//! Webhooks as data: the Standard Webhooks signature (`webhook-signature: v1,<base64
//! HMAC-SHA256 of "id.timestamp.body">`, `whsec_` secrets), the checks on a subscription's
//! URL and the address rule that keeps deliveries off private networks (SSRF).
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Prefix of a webhook secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes of a generated secret.
pub const SECRET_BYTES: usize = 32;
/// Longest subscription URL.
pub const MAX_URL_LEN: usize = 2048;

/// A new random secret, `whsec_<base64 of 32 bytes>`.
pub fn generate_secret() -> String {
    let bytes: [u8; SECRET_BYTES] = rand::random();
    format!("{SECRET_PREFIX}{}", BASE64.encode(bytes))
}

/// The key bytes of a `whsec_…` secret (24 to 64 bytes of base64).
pub fn secret_key(secret: &str) -> Result<Vec<u8>, String> {
    let Some(b64) = secret.strip_prefix(SECRET_PREFIX) else {
        return Err(format!("must start with '{SECRET_PREFIX}'"));
    };
    let key = BASE64
        .decode(b64)
        .map_err(|_| format!("must be '{SECRET_PREFIX}' followed by base64"))?;
    if !(24..=64).contains(&key.len()) {
        return Err("must hold 24 to 64 bytes of key (base64 after the prefix)".into());
    }
    Ok(key)
}

/// The `webhook-signature` value of a message: `v1,<base64 HMAC-SHA256 of
/// "{msg_id}.{timestamp}.{body}">`.
pub fn sign(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

/// Check a subscription URL: absolute `http`/`https` with a host, at most 2048 characters.
pub fn check_url(raw: &str) -> Result<url::Url, String> {
    if raw.len() > MAX_URL_LEN {
        return Err(format!("must be at most {MAX_URL_LEN} characters"));
    }
    if raw.contains('\0') {
        return Err(super::validation::NUL_REFUSED.into());
    }
    if raw.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    let url = url::Url::parse(raw).map_err(|e| format!("not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL".into());
    }
    if url.host().is_none() {
        return Err("must name a host".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a #fragment".into());
    }
    Ok(url)
}

/// Whether deliveries may go to `ip` without `WHITTLE_WEBHOOK_ALLOW_PRIVATE`: not loopback,
/// private, link-local, shared (CGNAT), unspecified, broadcast, multicast, documentation or
/// reserved ranges (IPv4-mapped IPv6 addresses are judged as IPv4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && ip.segments()[1] == 0xff9b) // NAT64 (maps to IPv4 anywhere)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_specification_example() {
        // The example of the Standard Webhooks specification.
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = sign(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_are_checked_and_generated_valid() {
        assert_eq!(secret_key(&generate_secret()).unwrap().len(), SECRET_BYTES);
        assert_ne!(generate_secret(), generate_secret());
        for bad in [
            "",
            "whsec_",
            "sec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_!!!!",
            "whsec_AAAA",
        ] {
            assert!(secret_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_and_addresses() {
        assert!(check_url("https://hooks.example.com/whittle?x=1").is_ok());
        for bad in [
            "ftp://x/",
            "/relative",
            "http://",
            "https://a.b/#f",
            "javascript:alert(1)",
            "http://a.b/\u{0}",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
