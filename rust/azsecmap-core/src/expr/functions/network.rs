//! Network function `ipRangeContains(range, targetRange)` (policy-only): single addresses, CIDR ranges and
//! `start-end` ranges, IPv4 or IPv6; empty ranges and mixed families are errors, as documented.

use std::net::IpAddr;

use serde_json::Value;

use super::super::value::arg_str;
use super::super::EvalError;

/// Evaluate `ipRangeContains`.
pub(crate) fn call(name: &str, args: &[Value]) -> Result<Value, EvalError> {
    let outer = parse_range(arg_str(name, args, 0)?)?;
    let inner = parse_range(arg_str(name, args, 1)?)?;
    if outer.v6 != inner.v6 {
        return Err(EvalError(format!(
            "function `iprangecontains` cannot mix IP families: `{}` and `{}`",
            outer.text, inner.text
        )));
    }
    Ok(Value::Bool(
        outer.start <= inner.start && inner.end <= outer.end,
    ))
}

struct Range {
    v6: bool,
    start: u128,
    end: u128,
    text: String,
}

fn addr(s: &str, whole: &str) -> Result<(bool, u128), EvalError> {
    match s.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => Ok((false, u128::from(u32::from(a)))),
        Ok(IpAddr::V6(a)) => Ok((true, u128::from(a))),
        Err(_) => Err(EvalError(format!(
            "function `iprangecontains` got an invalid IP address range `{whole}`"
        ))),
    }
}

fn parse_range(s: &str) -> Result<Range, EvalError> {
    let text = s.trim();
    let bad = || {
        EvalError(format!(
            "function `iprangecontains` got an invalid IP address range `{s}`"
        ))
    };
    if text.is_empty() {
        return Err(EvalError(
            "function `iprangecontains` got an empty IP address range ``".to_string(),
        ));
    }
    if let Some((a, p)) = text.split_once('/') {
        let (v6, base) = addr(a, s)?;
        let bits: u32 = if v6 { 128 } else { 32 };
        let prefix: u32 = p.trim().parse().map_err(|_| bad())?;
        if prefix > bits {
            return Err(bad());
        }
        let host_bits = bits.saturating_sub(prefix);
        let host_mask: u128 = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits).saturating_sub(1)
        };
        let start = base & !host_mask;
        return Ok(Range {
            v6,
            start,
            end: start | host_mask,
            text: text.to_string(),
        });
    }
    if let Some((a, b)) = text.split_once('-') {
        let (v6a, start) = addr(a, s)?;
        let (v6b, end) = addr(b, s)?;
        if v6a != v6b {
            return Err(EvalError(format!(
                "function `iprangecontains` cannot mix IP families in range `{s}`"
            )));
        }
        if start > end {
            return Err(EvalError(format!(
                "function `iprangecontains` got an empty IP address range `{s}`"
            )));
        }
        return Ok(Range {
            v6: v6a,
            start,
            end,
            text: text.to_string(),
        });
    }
    let (v6, a) = addr(text, s)?;
    Ok(Range {
        v6,
        start: a,
        end: a,
        text: text.to_string(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::super::super::eval::tests::run;
    use serde_json::json;

    #[test]
    fn ipv4() {
        assert_eq!(
            run("[ipRangeContains('10.0.0.0/24', '10.0.0.5')]").unwrap(),
            json!(true)
        );
        assert_eq!(
            run("[ipRangeContains('10.0.0.0/24', '10.0.1.5')]").unwrap(),
            json!(false)
        );
        assert_eq!(
            run("[ipRangeContains('10.0.0.0/16', '10.0.3.0/24')]").unwrap(),
            json!(true)
        );
        assert_eq!(
            run("[ipRangeContains('10.0.3.0/24', '10.0.0.0/16')]").unwrap(),
            json!(false)
        );
        assert_eq!(
            run("[ipRangeContains('192.168.0.1-192.168.0.9', '192.168.0.5')]").unwrap(),
            json!(true)
        );
        assert_eq!(
            run("[ipRangeContains('192.168.0.1-192.168.0.9', '192.168.0.5-192.168.0.10')]")
                .unwrap(),
            json!(false)
        );
        assert_eq!(
            run("[ipRangeContains('0.0.0.0/0', '8.8.8.8')]").unwrap(),
            json!(true)
        );
        assert_eq!(
            run("[ipRangeContains('10.0.0.7/24', '10.0.0.1')]").unwrap(),
            json!(true)
        );
        assert_eq!(
            run("[ipRangeContains('1.2.3.4', '1.2.3.4/32')]").unwrap(),
            json!(true)
        );
    }

    #[test]
    fn ipv6() {
        assert_eq!(
            run("[ipRangeContains('2001:0DB8::/110', '2001:0DB8::3:FFFE')]").unwrap(),
            json!(true)
        );
        assert_eq!(
            run("[ipRangeContains('2001:0DB8::-2001:0DB8::3:FFFF', '2001:db8::1:0/112')]").unwrap(),
            json!(true)
        );
        assert_eq!(
            run("[ipRangeContains('2001:db8::/128', '2001:db8::1')]").unwrap(),
            json!(false)
        );
        assert_eq!(
            run("[ipRangeContains('::/0', '2001:db8::1')]").unwrap(),
            json!(true)
        );
    }

    #[test]
    fn errors() {
        assert!(run("[ipRangeContains('10.0.0.0/24', '2001:db8::1')]")
            .unwrap_err()
            .0
            .contains("mix"));
        assert!(run("[ipRangeContains('', '10.0.0.1')]").is_err());
        assert!(run("[ipRangeContains('10.0.0.9-10.0.0.1', '10.0.0.1')]").is_err());
        assert!(run("[ipRangeContains('10.0.0.0/33', '10.0.0.1')]").is_err());
        assert!(run("[ipRangeContains('10.0.0.0-2001:db8::1', '10.0.0.1')]").is_err());
        assert!(run("[ipRangeContains('not an ip', '10.0.0.1')]").is_err());
        assert!(run("[ipRangeContains(1, '10.0.0.1')]").is_err());
    }
}
