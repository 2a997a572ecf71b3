//! Field limits of the HTTP contract (API.md "Limits"), checked before anything is written:
//! a request over a limit changes nothing, whatever its Idempotency-Key.
use super::error::{Code, Problem};

/// `description`, `message` and a reason: at most 500 characters.
pub const MAX_TEXT_CHARS: usize = 500;
/// An email address: at most 254 characters (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// Refuses `value` of the field `name` when it is longer than `max` characters.
pub fn check_length(name: &str, value: &str, max: usize) -> Result<(), Problem> {
    if value.chars().count() > max {
        return Err(Problem::new(
            Code::InvalidRequest,
            format!("{name} is longer than {max} characters"),
        ));
    }
    Ok(())
}

/// O2: a cart is not empty and within the service-wide cap (`BATCH_TOO_LARGE`).
pub fn check_cart_size(len: usize, max_cart: usize) -> Result<(), Problem> {
    if len == 0 {
        return Err(Problem::new(Code::EmptyOrder, "the cart is empty"));
    }
    if len > max_cart {
        return Err(Problem::new(
            Code::BatchTooLarge,
            format!("at most {max_cart} domains per request, not {len}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_at_its_limit_passes_and_one_character_more_is_refused() {
        let at = "é".repeat(MAX_TEXT_CHARS);
        assert!(check_length("message", &at, MAX_TEXT_CHARS).is_ok());
        let over = format!("{at}x");
        let refused = check_length("message", &over, MAX_TEXT_CHARS).unwrap_err();
        assert_eq!(refused.code, Code::InvalidRequest);
        assert!(refused.detail.contains("message"));
    }

    #[test]
    fn o2_a_cart_is_between_one_and_the_cap() {
        assert_eq!(check_cart_size(0, 2000).unwrap_err().code, Code::EmptyOrder);
        assert!(check_cart_size(1, 2000).is_ok());
        assert!(check_cart_size(2000, 2000).is_ok());
        assert_eq!(
            check_cart_size(2001, 2000).unwrap_err().code,
            Code::BatchTooLarge
        );
    }
}
